-- The highest issue number known in the target project when a create was
-- first attempted. Jira allocates a project's keys in increasing order, so a
-- create whose answer was lost made an issue numbered above this floor; the
-- resume reads the keys above it (by key, never by search) and looks for the
-- mail's Message-ID in each issue's mailgate property.
alter table inbound_messages add column post_floor bigint;
