package dev.trafficmanager.route;

import java.net.URI;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * What a route may say beyond its URL: several {@code endpoints} to balance over (empty: the URL
 * alone), a response timeout ({@code timeoutMs}, 0: the sidecar's default) and {@code retries}
 * (null: the sidecar's default). When endpoints are listed, the route's URL is the first one's, so a
 * reader that knows only URLs still routes.
 */
public record RouteOptions(List<Endpoint> endpoints, int timeoutMs, RouteRetries retries) {
    public static final int MAX_ENDPOINTS = 64;
    public static final int MAX_TIMEOUT_MS = 300_000;
    public static final RouteOptions NONE = new RouteOptions(List.of(), 0, null);

    public RouteOptions {
        endpoints = List.copyOf(Objects.requireNonNull(endpoints, "endpoints"));
        if (endpoints.size() > MAX_ENDPOINTS) {
            throw new InvalidRouteException("invalid_endpoint",
                    "endpoints: " + endpoints.size() + " of them (expected: at most " + MAX_ENDPOINTS + ")");
        }
        if (timeoutMs < 0 || timeoutMs > MAX_TIMEOUT_MS) {
            throw new InvalidRouteException("invalid_timeout",
                    "timeoutMs: " + timeoutMs + " (expected: 1 to " + MAX_TIMEOUT_MS + ")");
        }
        requireOnePath(endpoints);
    }

    /** Options with the given endpoints and the defaults otherwise. */
    public static RouteOptions of(List<Endpoint> endpoints) {
        return new RouteOptions(endpoints, 0, null);
    }

    public boolean isDefault() {
        return endpoints.isEmpty() && timeoutMs == 0 && retries == null;
    }

    /** The route's URL: the first endpoint's, or {@code url} when none is listed. */
    public String urlOr(String url) {
        return endpoints.isEmpty() ? url : endpoints.get(0).url();
    }

    /**
     * Every endpoint of a route serves the same paths, so their URLs share one path (the sidecar
     * appends the request's path to it), and no URL appears twice.
     */
    private static void requireOnePath(List<Endpoint> endpoints) {
        String path = null;
        Set<String> seen = new HashSet<>();
        for (Endpoint endpoint : endpoints) {
            if (!seen.add(endpoint.url())) {
                throw new InvalidRouteException("invalid_endpoint", "endpoints: " + endpoint.url() + " is listed twice");
            }
            URI uri = UpstreamUrl.parse(endpoint.url());
            String own = uri.getRawPath() == null || uri.getRawPath().equals("/") ? "" : uri.getRawPath();
            if (path == null) {
                path = own;
            } else if (!path.equals(own)) {
                throw new InvalidRouteException("invalid_endpoint", "endpoints: " + endpoint.url() + " has the path \""
                        + own + "\", the first endpoint \"" + path + "\" (expected: one path for every endpoint of a route)");
            }
        }
    }
}
