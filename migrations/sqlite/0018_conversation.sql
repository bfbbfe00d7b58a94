-- The conversation of an issue: where its request came in, the latest mail
-- on it, and the people mailgate writes to by mail (the requester: the
-- creating mail's sender; participants: its To/Cc, later mails' senders
-- and Cc). `last_seq` is the inbound row id of the person's latest mail, so
-- a late retry of an older mail never moves "latest" back.
create table issue_conversations (
    issue_key text primary key,
    reply_to text,
    last_message_id text,
    last_seq bigint not null default 0,
    created_at bigint not null,
    updated_at bigint not null
);

create table issue_people (
    issue_key text not null,
    address text not null,
    name text,
    account_id text,
    role text not null,
    last_message_id text,
    last_seq bigint not null default 0,
    created_at bigint not null,
    updated_at bigint not null,
    primary key (issue_key, address)
);

-- notifications answer with Reply-To the mailbox the request came in on;
-- rows of one issue and recipient due together are sent as one mail
alter table outbox add column reply_to text;
alter table outbox add column merge_until bigint;
create index outbox_merge on outbox (issue_key, recipient, status);
