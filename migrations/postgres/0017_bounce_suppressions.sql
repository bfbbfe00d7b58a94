-- A bounce suppresses an address only for a while, and says which of our
-- mails bounced with which status. Rows from before this migration were
-- marked by any bounce-like mail (forgeable): they end 30 days (the default
-- bounce_suppression_days) after they were made.
alter table bouncing_addresses add column expires_at bigint not null default 0;
alter table bouncing_addresses add column message_id text;
alter table bouncing_addresses add column status text;
alter table bouncing_addresses add column updated_at bigint not null default 0;
update bouncing_addresses set expires_at = created_at + 2592000000, updated_at = created_at, status = 'legacy';

-- bounces look up the mails we sent by Message-ID
create index outbox_message_id on outbox (message_id);
