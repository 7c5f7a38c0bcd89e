package dev.trafficmanager.route;

import java.util.Objects;

/**
 * One change of a route: the route's full state after the change, so a consumer needs no other
 * source to apply it, and a compacted topic keeps exactly the latest state per key.
 *
 * @param occurredAtMillis when the change was committed, epoch milliseconds
 * @param protocol        the route's upstream protocol (format version 2; {@link RouteProtocol#AUTO} in older events)
 */
public record RouteEvent(RouteEventType type, RouteKey key, String url, boolean active, long revision,
                         long occurredAtMillis, RouteProtocol protocol) {

    public RouteEvent {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(protocol, "protocol");
        Objects.requireNonNull(key, "key");
        UpstreamUrl.require(url);
        if (revision < 1) {
            throw new IllegalArgumentException("revision: " + revision + " (expected: >= 1)");
        }
    }

    /** An event of a route with the default protocol. */
    public RouteEvent(RouteEventType type, RouteKey key, String url, boolean active, long revision, long occurredAtMillis) {
        this(type, key, url, active, revision, occurredAtMillis, RouteProtocol.AUTO);
    }
}
