-- How often each file on the inbound.blocked_sha256 list was left out of an
-- issue: one row per digest, counted up per skipped file, never reset (the
-- list is checked against it: a digest that stays at zero can go).
create table blocked_attachments (
    sha256 text primary key,
    skipped bigint not null,
    created_at bigint not null,
    updated_at bigint not null
);
