-- Jira events to notify about: from webhooks, the catch-up search, and
-- mailgate's own actions. The id identifies an event across all three.
create table events (
    id text primary key,
    kind text not null,
    origin text not null,
    issue_key text not null,
    payload text not null,
    status text not null default 'pending',
    attempts bigint not null default 0,
    next_attempt_at bigint not null default 0,
    last_error text,
    recipients bigint,
    created_at bigint not null,
    updated_at bigint not null
);
create index events_due on events (status, next_attempt_at);

-- webhook deliveries already accepted (Jira retries with the same identifier)
create table webhook_deliveries (
    id text primary key,
    event_id text,
    received_at bigint not null
);

-- addresses whose mail bounced: never sent to
create table bouncing_addresses (
    email text primary key,
    reason text,
    created_at bigint not null
);

-- small persistent values (e.g. the catch-up cursor)
create table kv (
    key text primary key,
    value text not null,
    updated_at bigint not null
);
