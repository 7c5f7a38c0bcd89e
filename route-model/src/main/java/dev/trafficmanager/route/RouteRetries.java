package dev.trafficmanager.route;

import java.util.EnumSet;
import java.util.Set;

/**
 * A route's retries: how many times a failed attempt is tried again ({@code attempts}, 1 to
 * {@value #MAX_ATTEMPTS}; Istio's and Envoy's meaning: retries, not tries) and on which failures.
 */
public record RouteRetries(int attempts, Set<RetryOn> on) {
    public static final int MAX_ATTEMPTS = 5;

    public RouteRetries {
        if (attempts < 1 || attempts > MAX_ATTEMPTS) {
            throw new InvalidRouteException("invalid_retries",
                    "retries.attempts: " + attempts + " (expected: 1 to " + MAX_ATTEMPTS + ")");
        }
        if (on == null || on.isEmpty()) {
            throw new InvalidRouteException("invalid_retries",
                    "retries.on: empty (expected: one or more of connect-failure, reset, gateway-error)");
        }
        on = java.util.Collections.unmodifiableSet(EnumSet.copyOf(on));
    }

    /** The conditions as a bit set ({@link RetryOn#bit()}). */
    public int bits() {
        int bits = 0;
        for (RetryOn condition : on) {
            bits |= condition.bit();
        }
        return bits;
    }

    /** The retries whose conditions are {@code bits}. */
    public static RouteRetries of(int attempts, int bits) {
        EnumSet<RetryOn> on = EnumSet.noneOf(RetryOn.class);
        for (RetryOn condition : RetryOn.values()) {
            if ((bits & condition.bit()) != 0) {
                on.add(condition);
            }
        }
        return new RouteRetries(attempts, on);
    }

    public boolean covers(RetryOn condition) {
        return on.contains(condition);
    }
}
