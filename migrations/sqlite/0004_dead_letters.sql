-- mail that failed for good (after max_attempts, or a permanent error),
-- with its raw bytes and the error; `mailgate replay --from-dead-letter ID`
create view dead_letters as
select id, mailbox, message_id, raw, raw_size, last_error, attempts, action, reason, updated_at
from inbound_messages
where status = 'failed';
