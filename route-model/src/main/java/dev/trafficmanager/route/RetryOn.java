package dev.trafficmanager.route;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** What failure of an attempt a route's retries cover. The bits are part of the wire format. */
public enum RetryOn {
    /** The upstream refused or did not accept the connection. */
    CONNECT_FAILURE(1),
    /** The connection closed or reset before a response began. */
    RESET(2),
    /** The upstream answered 502, 503 or 504. */
    GATEWAY_ERROR(4);

    private final int bit;

    RetryOn(int bit) {
        this.bit = bit;
    }

    public int bit() {
        return bit;
    }

    public String wireName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** The condition named {@code name} ({@code connect-failure}, {@code reset}, {@code gateway-error}). */
    public static RetryOn parse(String name) {
        for (RetryOn on : values()) {
            if (on.wireName().equals(name)) {
                return on;
            }
        }
        throw new InvalidRouteException("invalid_retries", "retries.on: " + Names.quote(name) + " (expected: one of "
                + Arrays.stream(values()).map(RetryOn::wireName).collect(Collectors.joining(", ")) + ")");
    }
}
