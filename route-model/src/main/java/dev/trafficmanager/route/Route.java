package dev.trafficmanager.route;

import java.time.Instant;
import java.util.Objects;

/** The state of one route as the control API stores it. */
public record Route(RouteKey key, String url, boolean active, long revision, Instant createdAt, Instant updatedAt,
                    RouteProtocol protocol) {

    public Route {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(protocol, "protocol");
        UpstreamUrl.require(url);
        if (revision < 1) {
            throw new IllegalArgumentException("revision: " + revision + " (expected: >= 1)");
        }
        Objects.requireNonNull(createdAt, "createdAt");
        Objects.requireNonNull(updatedAt, "updatedAt");
    }

    /** A route with the default protocol ({@link RouteProtocol#AUTO}). */
    public Route(RouteKey key, String url, boolean active, long revision, Instant createdAt, Instant updatedAt) {
        this(key, url, active, revision, createdAt, updatedAt, RouteProtocol.AUTO);
    }
}
