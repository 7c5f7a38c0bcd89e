package dev.trafficmanager.route;

/**
 * One upstream of a route that lists several: its URL (the route model's rules) and its weight in
 * the route's balancing, 1 to {@value #MAX_WEIGHT}.
 */
public record Endpoint(String url, int weight) {
    public static final int MAX_WEIGHT = 1000;

    public Endpoint {
        UpstreamUrl.require(url);
        if (weight < 1 || weight > MAX_WEIGHT) {
            throw new InvalidRouteException("invalid_endpoint",
                    "endpoint " + url + ": weight " + weight + " (expected: 1 to " + MAX_WEIGHT + ")");
        }
    }
}
