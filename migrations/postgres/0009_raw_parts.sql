-- big raw mails are stored in parts (1 MiB each), so that neither writing nor
-- reading one holds several whole copies in the database engine; the
-- inbound_messages.raw of such a mail is empty and raw_size is its length
create table inbound_raw_parts (
    inbound_id bigint not null references inbound_messages(id),
    seq integer not null,
    data bytea not null,
    primary key (inbound_id, seq)
);
