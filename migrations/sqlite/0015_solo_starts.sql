-- A mail that was being worked on when the process stopped (starts > 0) is
-- a suspect: it is worked on alone the next time, and each such start is
-- counted here. Only a stop while it ran alone proves the mail stopped the
-- process; after two of those it is dead-lettered. Reset like starts.
alter table inbound_messages add column solo_starts bigint not null default 0;
