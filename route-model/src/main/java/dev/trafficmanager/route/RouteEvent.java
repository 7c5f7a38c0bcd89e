package dev.trafficmanager.route;

import java.util.Objects;

/**
 * One change of a route: the route's full state after the change, so a consumer needs no other
 * source to apply it, and a compacted topic keeps exactly the latest state per key.
 *
 * @param occurredAtMillis when the change was committed, epoch milliseconds
 * @param protocol        the route's upstream protocol (format version 2; {@link RouteProtocol#AUTO} in older events)
 * @param options         endpoints, timeout and retries (format version 3; {@link RouteOptions#NONE} in older events);
 *                        with endpoints, {@code url} is the first one's
 */
public record RouteEvent(RouteEventType type, RouteKey key, String url, boolean active, long revision,
                         long occurredAtMillis, RouteProtocol protocol, RouteOptions options) implements ChangeEvent {

    public RouteEvent {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(protocol, "protocol");
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(options, "options");
        UpstreamUrl.require(url);
        if (!options.urlOr(url).equals(url)) {
            throw new IllegalArgumentException("url " + url + " is not the first endpoint's (" + options.urlOr(url) + ")");
        }
        if (revision < 1) {
            throw new IllegalArgumentException("revision: " + revision + " (expected: >= 1)");
        }
    }

    /** An event of a route without options. */
    public RouteEvent(RouteEventType type, RouteKey key, String url, boolean active, long revision, long occurredAtMillis,
                      RouteProtocol protocol) {
        this(type, key, url, active, revision, occurredAtMillis, protocol, RouteOptions.NONE);
    }

    /** An event of a route with the default protocol. */
    public RouteEvent(RouteEventType type, RouteKey key, String url, boolean active, long revision, long occurredAtMillis) {
        this(type, key, url, active, revision, occurredAtMillis, RouteProtocol.AUTO);
    }

    @Override
    public String keyString() {
        return key.toString();
    }

    @Override
    public String tenant() {
        return key.tenant();
    }
}
