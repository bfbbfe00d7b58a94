-- per-sender storm detection and per-issue update limits
alter table inbound_messages add column sender text;
alter table inbound_messages add column throttle_issue text;
create index inbound_messages_sender on inbound_messages (sender, created_at);
