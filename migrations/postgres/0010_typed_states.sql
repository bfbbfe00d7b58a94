-- Typed inbound states. Why a pending mail waits is a column of its own
-- (`token`, `credentials`, `throttled`) instead of a prefix of last_error;
-- a mail whose Jira call is under way keeps its plain action (`create`,
-- `comment`) with no issue key yet, instead of a `posting:` prefix.
alter table inbound_messages add column hold_reason text;
update inbound_messages set hold_reason = 'token' where status = 'pending' and last_error like 'held:%';
update inbound_messages set hold_reason = 'throttled' where status = 'pending' and last_error like 'throttled:%';
update inbound_messages set action = substr(action, 9) where action like 'posting:%';
-- notification events are claimed under a lease, like mail and the outbox
alter table events add column lease_owner text;
alter table events add column lease_until bigint;
