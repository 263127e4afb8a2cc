-- 0008_lookup_indexes: the audit search by actor (GET /admin/v1/audit?actor=,
-- an organization's history of what its administrators did) reads newest
-- first from an index instead of scanning every event; an organization's
-- legacy login IDs (the console's login ID page) are read by organization,
-- in service then login ID order, from the index that replaces the one on
-- org_id alone (its prefix).
CREATE INDEX audit_events_actor ON audit_events (actor_id, id);
DROP INDEX legacy_login_ids_org;
CREATE INDEX legacy_login_ids_org_service_login ON legacy_login_ids (org_id, service_id, login_id);
