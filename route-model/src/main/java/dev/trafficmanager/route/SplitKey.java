package dev.trafficmanager.route;

import java.nio.charset.StandardCharsets;

/**
 * Identifies a split: {@code (tenant, service, env)}. Its string {@code tenant/service/env} has
 * three parts where a route key has four, so the two never collide as Kafka keys or cache keys.
 */
public record SplitKey(String tenant, String service, String env) {

    public SplitKey {
        Names.require("tenant", tenant);
        Names.require("service", service);
        Names.require("env", env);
    }

    /** Whether {@code key} has a split key's shape (three parts), not a route key's. */
    public static boolean isSplitKey(String key) {
        int slashes = 0;
        for (int i = 0; i < key.length(); i++) {
            if (key.charAt(i) == '/') {
                slashes++;
            }
        }
        return slashes == 2;
    }

    /** Parses {@code tenant/service/env}, the form {@link #toString()} produces. */
    public static SplitKey parse(String text) {
        String[] parts = text == null ? new String[0] : text.split("/", -1);
        if (parts.length != 3) {
            throw new InvalidRouteException("invalid_name", "split key: " + Names.quote(text) + " (expected: tenant/service/env)");
        }
        return new SplitKey(parts[0], parts[1], parts[2]);
    }

    /** The route key of {@code version} under this split. */
    public RouteKey route(String version) {
        return new RouteKey(tenant, service, env, version);
    }

    public byte[] toBytes() {
        return toString().getBytes(StandardCharsets.US_ASCII);
    }

    @Override
    public String toString() {
        return tenant + '/' + service + '/' + env;
    }
}
