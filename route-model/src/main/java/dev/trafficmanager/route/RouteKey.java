package dev.trafficmanager.route;

import java.nio.charset.StandardCharsets;

/**
 * Identifies one route: {@code (tenant, service, env, version)}. Every component satisfies
 * {@link Names}, so none contains {@code '/'} and {@link #toString()} is an unambiguous key,
 * used as the Kafka message key and in Redis keys.
 */
public record RouteKey(String tenant, String service, String env, String version) {

    public RouteKey {
        Names.require("tenant", tenant);
        Names.require("service", service);
        Names.require("env", env);
        Names.require("version", version);
    }

    /** Parses {@code tenant/service/env/version}, the form {@link #toString()} produces. */
    public static RouteKey parse(String text) {
        String[] parts = text == null ? new String[0] : text.split("/", -1);
        if (parts.length != 4) {
            throw new InvalidRouteException("invalid_name",
                    "route key: " + Names.quote(text) + " (expected: tenant/service/env/version)");
        }
        return new RouteKey(parts[0], parts[1], parts[2], parts[3]);
    }

    public byte[] toBytes() {
        return toString().getBytes(StandardCharsets.US_ASCII);
    }

    @Override
    public String toString() {
        return tenant + '/' + service + '/' + env + '/' + version;
    }
}
