package dev.trafficmanager.route;

import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * A weighted split of a service's traffic between versions, for requests that name no version:
 * {@code weights} are non-negative integer proportions (at least one positive) by version name.
 * With a {@code stickyHeader} (or {@code stickyCookie}) the same value always lands on the same
 * version while the weights stand; either may be null.
 */
public record Split(Map<String, Integer> weights, String stickyHeader, String stickyCookie) {
    public static final int MAX_VERSIONS = 16;
    public static final int MAX_WEIGHT = 10_000;
    private static final int MAX_STICKY_NAME = 64;

    public Split {
        Objects.requireNonNull(weights, "weights");
        if (weights.isEmpty() || weights.size() > MAX_VERSIONS) {
            throw invalid("weights: " + weights.size() + " versions (expected: 1 to " + MAX_VERSIONS + ")");
        }
        TreeMap<String, Integer> sorted = new TreeMap<>();
        long total = 0;
        for (Map.Entry<String, Integer> weight : weights.entrySet()) {
            Names.require("version", weight.getKey());
            int value = weight.getValue() == null ? -1 : weight.getValue();
            if (value < 0 || value > MAX_WEIGHT) {
                throw invalid("weights." + weight.getKey() + ": " + weight.getValue() + " (expected: an integer 0 to " + MAX_WEIGHT + ")");
            }
            sorted.put(weight.getKey(), value);
            total += value;
        }
        if (total == 0) {
            throw invalid("weights: all zero (expected: at least one positive weight)");
        }
        weights = Collections.unmodifiableMap(sorted);
        stickyHeader = stickyName("stickyHeader", stickyHeader);
        stickyCookie = stickyName("stickyCookie", stickyCookie);
    }

    /** A header name is matched without regard to case: kept lower case. A cookie name is kept as given. */
    private static String stickyName(String field, String name) {
        if (name == null) {
            return null;
        }
        if (name.isEmpty() || name.length() > MAX_STICKY_NAME || !isToken(name)) {
            throw invalid(field + ": " + Names.quote(name) + " (expected: 1 to " + MAX_STICKY_NAME
                    + " characters of an HTTP token)");
        }
        return field.equals("stickyHeader") ? name.toLowerCase(java.util.Locale.ROOT) : name;
    }

    /** RFC 9110's token characters. */
    private static boolean isToken(String name) {
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
                    || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    private static InvalidRouteException invalid(String message) {
        return new InvalidRouteException("invalid_split", message);
    }
}
