-- OAuth 2.0 grants (issue 15), one row per grant: `mailbox:NAME`, `smtp`,
-- `jira`. Secrets are AES-256-GCM blobs under the master key (nonce ||
-- ciphertext+tag), the associated data naming the grant and the column
-- (`oauth:NAME:refresh_token`, `oauth:NAME:client_secret`), each with the id
-- of the key it was written under. `version` goes up with every new
-- refresh token or secret: a rotation is written only over the version it
-- was refreshed from (compare-and-swap between instances).
create table oauth_grants (
    name text primary key,
    -- active | revoked
    state text not null,
    version bigint not null default 0,
    refresh_token bytea,
    refresh_key_id text,
    -- a client secret or a service-account key set with `mailgate oauth set-secret`
    client_secret bytea,
    secret_key_id text,
    -- Jira Cloud 3LO: the site the grant is for (accessible-resources)
    cloud_id text,
    access_expires_at bigint,
    -- when the refresh token stops working, if known (Atlassian: 90 days
    -- without a refresh, and 365 days after the login whatever happens)
    refresh_expires_at bigint,
    -- the last \`oauth login\`
    logged_in_at bigint,
    revoked_at bigint,
    last_error text,
    last_error_at bigint,
    created_at bigint not null,
    updated_at bigint not null
);
