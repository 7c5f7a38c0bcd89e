package dev.trafficmanager.route;

import java.time.Instant;
import java.util.Objects;

/** The state of one route as the control API stores it. */
public record Route(RouteKey key, String url, boolean active, long revision, Instant createdAt, Instant updatedAt) {

    public Route {
        Objects.requireNonNull(key, "key");
        UpstreamUrl.require(url);
        if (revision < 1) {
            throw new IllegalArgumentException("revision: " + revision + " (expected: >= 1)");
        }
        Objects.requireNonNull(createdAt, "createdAt");
        Objects.requireNonNull(updatedAt, "updatedAt");
    }
}
