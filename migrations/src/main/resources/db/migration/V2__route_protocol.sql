-- The protocol a route's upstream is spoken to (issue 14): auto (the client's, for http upstreams),
-- http1 or h2. Existing routes keep today's behaviour: auto.
ALTER TABLE endpoints ADD COLUMN protocol TEXT NOT NULL DEFAULT 'auto'
    CONSTRAINT endpoints_protocol CHECK (protocol IN ('auto', 'http1', 'h2'));
ALTER TABLE route_events ADD COLUMN protocol TEXT NOT NULL DEFAULT 'auto'
    CONSTRAINT route_events_protocol CHECK (protocol IN ('auto', 'http1', 'h2'));
-- The sidecar's lookup reads the protocol too: keep it an index-only scan.
DROP INDEX endpoints_active_lookup;
CREATE INDEX endpoints_active_lookup ON endpoints (environment_id, version) INCLUDE (url, revision, protocol)
    WHERE is_active;
