-- row claims for several instances on one database: a process leases a
-- pending mail while it works on it; a lease of a dead process expires
alter table inbound_messages add column lease_owner text;
alter table inbound_messages add column lease_until bigint;
