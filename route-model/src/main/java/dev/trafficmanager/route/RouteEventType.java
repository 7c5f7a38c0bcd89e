package dev.trafficmanager.route;

/** What a route event records. The codes are part of the wire format: never renumber them. */
public enum RouteEventType {
    CREATED(1),
    UPDATED(2),
    DEACTIVATED(3),
    ACTIVATED(4),
    /** A split deleted (format 3). */
    DELETED(5);

    private static final RouteEventType[] BY_CODE = {null, CREATED, UPDATED, DEACTIVATED, ACTIVATED, DELETED};

    private final int code;

    RouteEventType(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** Returns the type for {@code code}, or {@code null} for a code this reader does not know. */
    public static RouteEventType fromCode(int code) {
        return code > 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }

    public String wireName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
