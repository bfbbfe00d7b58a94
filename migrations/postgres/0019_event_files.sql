-- Files an agent added to an issue, fetched once per event (up to
-- notify.attachment_max_bytes each) and attached to every mail of it.
create table event_files (
    event_id text not null,
    idx bigint not null,
    filename text not null,
    content_type text not null,
    data bytea not null,
    created_at bigint not null,
    primary key (event_id, idx)
);

-- the event an outbox row notifies of (its files go with it)
alter table outbox add column event_id text;
