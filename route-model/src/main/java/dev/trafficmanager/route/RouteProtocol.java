package dev.trafficmanager.route;

import java.util.Locale;

/**
 * The protocol a route's upstream is spoken to: {@code auto} (the default) speaks to an {@code http}
 * upstream the protocol the client spoke (HTTP/2 with prior knowledge for an HTTP/2 client) and
 * HTTP/1.1 to an {@code https} one; {@code http1} and {@code h2} pin it, whatever the client spoke
 * (an {@code https} upstream is then offered only {@code h2} by ALPN). Its wire name is what the
 * route's JSON, the database and the event carry.
 */
public enum RouteProtocol {
    AUTO("auto", 0),
    HTTP1("http1", 1),
    H2("h2", 2);

    private final String wireName;
    private final int code;

    RouteProtocol(String wireName, int code) {
        this.wireName = wireName;
        this.code = code;
    }

    public String wireName() {
        return wireName;
    }

    /** Its code in an encoded event and a cache entry. */
    public int code() {
        return code;
    }

    /** The protocol for {@code code}; {@link #AUTO} for a code a later release may add, so an older reader keeps routing. */
    public static RouteProtocol fromCode(int code) {
        for (RouteProtocol protocol : values()) {
            if (protocol.code == code) {
                return protocol;
            }
        }
        return AUTO;
    }

    /** Parses a wire name (null: {@link #AUTO}); throws {@link InvalidRouteException} ({@code invalid_protocol}) otherwise. */
    public static RouteProtocol parse(String name) {
        if (name == null) {
            return AUTO;
        }
        for (RouteProtocol protocol : values()) {
            if (protocol.wireName.equals(name.toLowerCase(Locale.ROOT))) {
                return protocol;
            }
        }
        throw new InvalidRouteException("invalid_protocol",
                "protocol: \"" + name + "\" (expected: auto, http1 or h2)");
    }
}
