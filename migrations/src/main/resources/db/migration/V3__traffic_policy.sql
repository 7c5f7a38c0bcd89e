-- Traffic policy (issue 16): a route's endpoints, timeout and retries, and weighted version splits.

-- A route's options beyond its URL, the JSON the API takes ({"endpoints": [...], "timeoutMs": N,
-- "retries": {...}}); null when it has none. With endpoints, url is the first one's.
ALTER TABLE endpoints ADD COLUMN options JSONB CHECK (options IS NULL OR jsonb_typeof(options) = 'object');
ALTER TABLE route_events ADD COLUMN options JSONB CHECK (options IS NULL OR jsonb_typeof(options) = 'object');
DROP INDEX endpoints_active_lookup;
CREATE INDEX endpoints_active_lookup ON endpoints (environment_id, version) INCLUDE (url, revision, protocol, options)
    WHERE is_active;

-- One split per (tenant, service, env): weights by version ({"v1": 90, "v2": 10}), an optional
-- sticky header or cookie. DELETE is a soft delete like a route's deactivation: the row and its
-- history stay, and a later PUT brings it back with a higher revision.
CREATE TABLE splits (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    environment_id BIGINT      NOT NULL UNIQUE REFERENCES environments (id),
    weights        JSONB       NOT NULL CHECK (jsonb_typeof(weights) = 'object'),
    sticky_header  TEXT        CHECK (length(sticky_header) BETWEEN 1 AND 64),
    sticky_cookie  TEXT        CHECK (length(sticky_cookie) BETWEEN 1 AND 64),
    is_active      BOOLEAN     NOT NULL DEFAULT true,
    revision       BIGINT      NOT NULL DEFAULT 1 CHECK (revision >= 1),
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- A split's changes share the outbox with the routes', so one relay publishes both in commit order:
-- a row is a route's (endpoint_id, url) or a split's (split_id, weights in options).
ALTER TABLE route_events ALTER COLUMN endpoint_id DROP NOT NULL;
ALTER TABLE route_events ALTER COLUMN url DROP NOT NULL;
ALTER TABLE route_events ADD COLUMN split_id BIGINT REFERENCES splits (id);
ALTER TABLE route_events ADD CONSTRAINT route_events_route_or_split CHECK (
    (endpoint_id IS NOT NULL AND split_id IS NULL AND url IS NOT NULL)
    OR (endpoint_id IS NULL AND split_id IS NOT NULL AND url IS NULL AND options IS NOT NULL));
ALTER TABLE route_events ADD CONSTRAINT route_events_split_revision UNIQUE (split_id, revision);
ALTER TABLE route_events DROP CONSTRAINT route_events_event_type_check;
ALTER TABLE route_events ADD CONSTRAINT route_events_event_type_check
    CHECK (event_type IN ('created', 'updated', 'deactivated', 'activated', 'deleted'));
