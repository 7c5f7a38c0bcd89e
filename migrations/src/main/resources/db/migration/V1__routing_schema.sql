-- Routing data, normalized: tenants -> services -> environments -> endpoints (one per version).
-- Names follow the route model's rule (1-63 chars of [a-z0-9] with inner '-', '.', '_'); the
-- application validates them, the CHECKs below keep a stray manual write from breaking readers.

CREATE TABLE tenants (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT        NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9]([a-z0-9]|[-._](?=[a-z0-9])){0,62}$'),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Tenant credentials. Only a SHA-256 of the token is kept; the token is shown once at creation.
CREATE TABLE api_tokens (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   BIGINT      NOT NULL REFERENCES tenants (id),
    token_hash  BYTEA       NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    revoked_at  TIMESTAMPTZ
);
CREATE INDEX api_tokens_tenant ON api_tokens (tenant_id);

CREATE TABLE services (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   BIGINT      NOT NULL REFERENCES tenants (id),
    name        TEXT        NOT NULL CHECK (name ~ '^[a-z0-9]([a-z0-9]|[-._](?=[a-z0-9])){0,62}$'),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, name)
);

CREATE TABLE environments (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    service_id  BIGINT      NOT NULL REFERENCES services (id),
    name        TEXT        NOT NULL CHECK (name ~ '^[a-z0-9]([a-z0-9]|[-._](?=[a-z0-9])){0,62}$'),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (service_id, name)
);

-- One row per route. Deactivation is a soft delete: is_active = false, the row stays.
CREATE TABLE endpoints (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    environment_id  BIGINT      NOT NULL REFERENCES environments (id),
    version         TEXT        NOT NULL CHECK (version ~ '^[a-z0-9]([a-z0-9]|[-._](?=[a-z0-9])){0,62}$'),
    url             TEXT        NOT NULL CHECK (url ~* '^https?://' AND length(url) <= 2048),
    is_active       BOOLEAN     NOT NULL DEFAULT true,
    revision        BIGINT      NOT NULL DEFAULT 1 CHECK (revision >= 1),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT endpoints_route_key UNIQUE (environment_id, version)
);
-- The sidecar's lookup of a live route: an index-only scan over active rows.
CREATE INDEX endpoints_active_lookup ON endpoints (environment_id, version) INCLUDE (url, revision)
    WHERE is_active;

-- Outbox and audit trail: one row per state change, written in the same transaction as the change.
-- The relay publishes rows with published_at IS NULL to Kafka in id order, then stamps them. A row it
-- cannot encode (only a manual write could make one) is stamped too, with publish_error saying why,
-- so it cannot stall the outbox for every other route.
CREATE TABLE route_events (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    endpoint_id   BIGINT      NOT NULL REFERENCES endpoints (id),
    event_type    TEXT        NOT NULL CHECK (event_type IN ('created', 'updated', 'deactivated', 'activated')),
    url           TEXT        NOT NULL CHECK (url ~* '^https?://' AND length(url) <= 2048),
    is_active     BOOLEAN     NOT NULL,
    revision      BIGINT      NOT NULL,
    occurred_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    published_at  TIMESTAMPTZ,
    publish_error TEXT,
    CONSTRAINT route_events_one_per_revision UNIQUE (endpoint_id, revision)
);
CREATE INDEX route_events_unpublished ON route_events (id) WHERE published_at IS NULL;
