-- several instances: one worker sends a given outbox row
alter table outbox add column lease_owner text;
alter table outbox add column lease_until bigint;
