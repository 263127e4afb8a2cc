-- 0003_client_organization_selection: whether a client gets one
-- organization selected per sign-in (the `org` claim). '' leaves it to the
-- request (org_hint); 'required' makes every sign-in select exactly one.
ALTER TABLE clients ADD COLUMN organization_selection TEXT NOT NULL DEFAULT '';
