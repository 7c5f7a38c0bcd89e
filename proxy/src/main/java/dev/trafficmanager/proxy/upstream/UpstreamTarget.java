package dev.trafficmanager.proxy.upstream;

import dev.trafficmanager.route.RouteProtocol;
import dev.trafficmanager.route.UpstreamUrl;
import java.net.URI;
import java.util.Locale;

/**
 * Where a route forwards to, parsed once from its URL when the route enters a cache, so the request
 * path does no URL parsing. Immutable; equal targets share one connection pool per event loop.
 */
public final class UpstreamTarget {
    private final boolean https;
    private final String host;
    private final int port;
    private final String basePath;
    private final String hostHeader;
    private final String poolKey;
    private final String h2PoolKey;
    private final RouteProtocol protocol;

    private UpstreamTarget(boolean https, String host, int port, String basePath, String hostHeader, RouteProtocol protocol) {
        this.https = https;
        this.host = host;
        this.port = port;
        this.basePath = basePath;
        this.hostHeader = hostHeader;
        this.poolKey = (https ? "https://" : "http://") + hostHeader;
        this.h2PoolKey = poolKey + " h2";
        this.protocol = protocol;
    }

    /**
     * Parses a route's URL by the route model's rules ({@link UpstreamUrl}), whatever tier it came
     * from; throws {@link dev.trafficmanager.route.InvalidRouteException} when it breaks them.
     */
    public static UpstreamTarget parse(String url) {
        return parse(url, RouteProtocol.AUTO);
    }

    /** The same for a route that pins its upstream's protocol ({@link RouteProtocol#AUTO}: it does not). */
    public static UpstreamTarget parse(String url, RouteProtocol protocol) {
        URI uri = UpstreamUrl.parse(url);
        boolean https = uri.getScheme().toLowerCase(Locale.ROOT).equals("https");
        int defaultPort = https ? 443 : 80;
        int port = uri.getPort() < 0 ? defaultPort : uri.getPort();
        String path = uri.getRawPath() == null ? "" : uri.getRawPath();
        String base = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
        return of(https, uri.getHost(), port, base, protocol);
    }

    /**
     * An outside host that a request names itself (passed through, or tunnelled by CONNECT): no
     * base path. {@code host} is as in a URL (an IPv6 address in brackets).
     */
    public static UpstreamTarget outside(boolean https, String host, int port) {
        return of(https, host, port, "", RouteProtocol.AUTO);
    }

    private static UpstreamTarget of(boolean https, String host, int port, String basePath, RouteProtocol protocol) {
        String connectHost = host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
        String hostHeader = port == (https ? 443 : 80) ? host : host + ':' + port;
        return new UpstreamTarget(https, connectHost, port, basePath, hostHeader, protocol);
    }

    /**
     * The request target to send upstream: the URL's path followed by the client's path and query.
     * {@code requestUri} is in origin form ({@code /path?query}).
     */
    public String requestUri(String requestUri) {
        return basePath.isEmpty() ? requestUri : basePath + requestUri;
    }

    public boolean https() {
        return https;
    }

    public String host() {
        return host;
    }

    /** {@code host:port}, as a CONNECT names it. */
    public String authority() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }

    public int port() {
        return port;
    }

    /** The Host header the upstream expects: host, and the port unless it is the scheme's default. */
    public String hostHeader() {
        return hostHeader;
    }

    /** Scheme and authority: the identity of a connection pool. */
    public String poolKey() {
        return poolKey;
    }

    /** The protocol the route pins, or {@link RouteProtocol#AUTO}. */
    public RouteProtocol protocol() {
        return protocol;
    }

    /** The identity of the pool of HTTP/2 connections to the same upstream. */
    public String h2PoolKey() {
        return h2PoolKey;
    }

    @Override
    public String toString() {
        return poolKey + basePath;
    }
}
