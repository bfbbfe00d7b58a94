-- per mail, what was decided and why, and the Jira calls made for it
create table audit_log (
    id bigserial primary key,
    at bigint not null,
    inbound_id bigint,
    mailbox text,
    message_id text,
    step text not null,
    detail text not null
);
create index audit_log_inbound on audit_log (inbound_id);
create index audit_log_message on audit_log (message_id);
create index audit_log_at on audit_log (at);
