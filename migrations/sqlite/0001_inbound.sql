-- inbound mail: every raw message is stored before anything else happens
create table inbound_messages (
    id integer primary key autoincrement,
    mailbox text not null,
    uidvalidity bigint,
    uid bigint,
    source text,
    message_id text,
    raw blob not null,
    raw_size bigint not null,
    status text not null default 'pending',
    attempts bigint not null default 0,
    next_attempt_at bigint not null default 0,
    last_error text,
    action text,
    reason text,
    issue_key text,
    attachments_done bigint not null default 0,
    imap_acked bigint not null default 0,
    created_at bigint not null,
    updated_at bigint not null
);
create unique index inbound_messages_imap_uid on inbound_messages (mailbox, uidvalidity, uid);
create index inbound_messages_status on inbound_messages (status, next_attempt_at);
create index inbound_messages_unacked on inbound_messages (mailbox, imap_acked);

-- first inbound row to claim a Message-ID owns it; later copies are duplicates
create table message_claims (
    message_id text primary key,
    inbound_id bigint not null,
    created_at bigint not null
);

-- Message-IDs known to belong to an issue (mails we processed or sent)
create table message_threads (
    message_id text primary key,
    issue_key text not null,
    created_at bigint not null
);

create table processing_log (
    id integer primary key autoincrement,
    at bigint not null,
    mailbox text not null,
    inbound_id bigint,
    message_id text,
    action text not null,
    issue_key text,
    status text not null,
    error text,
    detail text
);
create index processing_log_at on processing_log (at);
