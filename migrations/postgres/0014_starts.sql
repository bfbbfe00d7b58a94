-- How many times processing of this mail began without an attempt being
-- recorded since (a retry, a hold or the outcome): counted before the work,
-- so a mail that crashes the process (out of memory, kill -9) is counted
-- too. A mail that has stopped the process twice is dead-lettered at its
-- next start instead of being worked on again.
alter table inbound_messages add column starts bigint not null default 0;
