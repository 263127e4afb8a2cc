-- 0006_legacy_reminders: the reminder mail to a login ID's contact address
-- before the pre-registration window ends goes out once per login ID:
-- reminded_at is set by one conditional UPDATE in the transaction that
-- queues the mail, so of several replicas exactly one sends it.
ALTER TABLE legacy_login_ids ADD COLUMN reminded_at BIGINT;
