-- An upload is announced before it is made: attachments_uploading is the
-- number of attachments that are done once the upload under way lands. A
-- resumed mail with attachments_uploading > attachments_done first looks at
-- the issue's attachments (a crash mid-upload is not an attempt).
alter table inbound_messages add column attachments_uploading bigint not null default 0;
-- The ordering keys of a mail (thread Message-IDs, issue keys), written when
-- it is first claimed: a later mail sharing a key with an earlier unfinished
-- one waits for it, across passes, mailboxes and instances.
create table inbound_keys (
    inbound_id bigint not null references inbound_messages(id),
    order_key text not null,
    primary key (inbound_id, order_key)
);
create index inbound_keys_order_key on inbound_keys (order_key);
