-- A Flyway callback, run after every migrate: the sidecars' read-only role (TM_DB_SIDECAR_ROLE), when
-- the database has one, may read what a route lookup reads and nothing else. Idempotent.
DO $$
BEGIN
  IF '${sidecar_role}' <> '' AND EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${sidecar_role}') THEN
    EXECUTE format('GRANT SELECT ON tenants, services, environments, endpoints TO %I', '${sidecar_role}');
  END IF;
END $$;
