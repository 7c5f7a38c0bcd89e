package dev.trafficmanager.route;

import java.time.Instant;
import java.util.Objects;

/**
 * The state of one route as the control API stores it. With endpoints in {@code options}, {@code url}
 * is the first one's.
 */
public record Route(RouteKey key, String url, boolean active, long revision, Instant createdAt, Instant updatedAt,
                    RouteProtocol protocol, RouteOptions options) {

    public Route {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(protocol, "protocol");
        Objects.requireNonNull(options, "options");
        UpstreamUrl.require(url);
        if (revision < 1) {
            throw new IllegalArgumentException("revision: " + revision + " (expected: >= 1)");
        }
        Objects.requireNonNull(createdAt, "createdAt");
        Objects.requireNonNull(updatedAt, "updatedAt");
    }

    /** A route without options. */
    public Route(RouteKey key, String url, boolean active, long revision, Instant createdAt, Instant updatedAt,
                 RouteProtocol protocol) {
        this(key, url, active, revision, createdAt, updatedAt, protocol, RouteOptions.NONE);
    }

    /** A route with the default protocol ({@link RouteProtocol#AUTO}). */
    public Route(RouteKey key, String url, boolean active, long revision, Instant createdAt, Instant updatedAt) {
        this(key, url, active, revision, createdAt, updatedAt, RouteProtocol.AUTO);
    }
}
