-- the workaround (admin) user's API token, encrypted; one current record
create table admin_token (
    id text primary key,
    user_email text not null,
    ciphertext blob not null,
    key_id text not null,
    set_at bigint not null,
    expires_at bigint not null,
    last_verified_at bigint,
    last_failure_at bigint,
    last_failure text,
    failed bigint not null default 0,
    created_at bigint not null,
    updated_at bigint not null
);

-- sender address -> Jira identity, cached with a TTL
create table sender_identities (
    email text primary key,
    account_id text,
    username text,
    display_name text,
    kind text not null,
    resolved_at bigint not null
);

-- mail to send: one row per recipient; dedupe_key makes enqueueing idempotent
create table outbox (
    id integer primary key autoincrement,
    dedupe_key text not null unique,
    kind text not null,
    recipient text not null,
    subject text not null,
    body_text text not null,
    body_html text,
    message_id text not null,
    in_reply_to text,
    issue_key text,
    status text not null default 'pending',
    attempts bigint not null default 0,
    next_attempt_at bigint not null default 0,
    last_error text,
    created_at bigint not null,
    updated_at bigint not null
);
create index outbox_due on outbox (status, next_attempt_at);

create table outbox_attempts (
    id integer primary key autoincrement,
    outbox_id bigint not null,
    at bigint not null,
    result text not null,
    error text
);

-- expiry warning thresholds already crossed, per token record
create table token_warnings (
    token_id text not null,
    threshold_days bigint not null,
    at bigint not null,
    primary key (token_id, threshold_days)
);
