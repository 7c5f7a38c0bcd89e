package dev.trafficmanager.proxy;

import dev.trafficmanager.proxy.observe.ObserveConfig;
import dev.trafficmanager.config.KafkaClientSettings;
import dev.trafficmanager.config.Settings;
import dev.trafficmanager.proxy.resilience.CircuitBreaker;
import dev.trafficmanager.proxy.resilience.RetryPolicy;
import dev.trafficmanager.proxy.routing.TenantPolicy;
import dev.trafficmanager.route.Names;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Every setting of the sidecar, read once at start from environment variables and validated. The
 * defaults fit the local stack of {@code make stack-up}; the README lists them all.
 *
 * @param bind              TM_PROXY_BIND, default 127.0.0.1: the application in the same pod (or
 *                          on the same host) sends its outgoing requests here
 * @param port              TM_PROXY_PORT, default 15001
 * @param adminBind         TM_PROXY_ADMIN_BIND, default 127.0.0.1: the admin port is for the node only
 * @param adminPort         TM_PROXY_ADMIN_PORT, default 15000
 * @param eventLoops        TM_PROXY_EVENT_LOOPS, default the number of cores
 * @param transport         TM_PROXY_TRANSPORT, default auto (io_uring where the kernel allows it, else
 *                          epoll, else NIO); io_uring, epoll or nio ask for one
 * @param headers           TM_HEADER_TENANT/_SERVICE/_ENV/_VERSION, default x-tm-tenant, ...
 * @param defaults          TM_TENANT, TM_ENV, TM_DEFAULT_VERSION: used when the header is absent
 * @param tenants           TM_TENANT and TM_ALLOWED_TENANTS: the only tenants whose routes requests
 *                          may use; one of the two must be set
 * @param outbound          TM_HOST_SUFFIXES and TM_OUTBOUND_POLICY: routing by authority
 * @param maxInitialLine    TM_PROXY_MAX_INITIAL_LINE, default 8192: longer request lines get 414
 * @param maxHeaderSize     TM_PROXY_MAX_HEADER_SIZE, default 16384: larger headers get 431
 * @param maxHeaders        TM_PROXY_MAX_HEADERS, default 100: requests with more header fields get 431
 * @param maxBodyBytes      TM_PROXY_MAX_BODY_BYTES, default 0 (no limit): larger request bodies get 413
 * @param tenantMaxInFlight TM_PROXY_TENANT_MAX_IN_FLIGHT, default 0 (no cap): a tenant's requests in
 *                          flight past this get 503 tenant_overloaded
 * @param clientIdleTimeout TM_PROXY_IDLE_TIMEOUT_MS, default 60000: an idle client connection closes
 * @param tunnelIdleTimeout TM_TUNNEL_IDLE_TIMEOUT_MS, default 300000: an upgraded connection (WebSocket)
 *                          closes when no byte passed either way this long
 * @param drainTimeout      TM_PROXY_DRAIN_TIMEOUT_MS, default 15000: on SIGTERM, the longest the
 *                          sidecar keeps serving; it stops once no request was in flight for 1 s
 * @param upstream          the upstream connection settings
 * @param lookup            the route lookup settings
 * @param l1File            TM_L1_FILE, default /var/tmp/traffic-manager/routes.l1
 * @param l1MaxEntries      TM_L1_MAX_ENTRIES, default 250000: fixed when the file is created
 * @param nearCacheEntries  TM_NEAR_CACHE_ENTRIES, default 10000; 0 turns the on-heap cache off
 * @param redisUrl          TM_REDIS_URL, default redis://127.0.0.1:56379; "off" disables the tier
 * @param dbUrl             TM_DB_URL, default jdbc:postgresql://127.0.0.1:56432/trafficmanager (PgBouncer
 *                          of the local stack, in transaction mode, in front of PostgreSQL)
 * @param dbUser            TM_DB_USER, default tm
 * @param dbPassword        TM_DB_PASSWORD, default tm
 * @param dbPoolSize        TM_LOOKUP_DB_POOL, default 4: connections and threads for L3 lookups
 * @param kafkaBootstrap    TM_KAFKA_BOOTSTRAP, default 127.0.0.1:59092
 * @param topic             TM_KAFKA_TOPIC, default tm.route-events
 * @param kafkaClient       TM_KAFKA_USER, TM_KAFKA_PASSWORD, TM_KAFKA_PROPERTIES_FILE, TM_KAFKA_CLIENT_*:
 *                          credentials and any other client property ({@link KafkaClientSettings})
 * @param observe           TM_ACCESS_LOG, TM_ACCESS_LOG_QUERY, TM_ACCESS_LOG_QUEUE, TM_TRACE_CONTEXT ({@link ObserveConfig})
 */
public record ProxyConfig(String bind, int port, String adminBind, int adminPort, int eventLoops, String transport,
                          RouteHeaderNames headers, RouteDefaults defaults, TenantPolicy tenants,
                          Outbound outbound, int maxInitialLine,
                          int maxHeaderSize, int maxHeaders, long maxBodyBytes, int tenantMaxInFlight,
                          Duration clientIdleTimeout, Duration tunnelIdleTimeout,
                          Duration drainTimeout,
                          Upstream upstream, Lookup lookup, Path l1File, int l1MaxEntries,
                          int nearCacheEntries, String redisUrl, String dbUrl, String dbUser,
                          String dbPassword, int dbPoolSize, String kafkaBootstrap, String topic,
                          KafkaClientSettings kafkaClient, ObserveConfig observe) {

    /** What the proxy port allows a client: the idle timeout and the size of a request. */
    public record ClientLimits(Duration idleTimeout, Duration tunnelIdleTimeout, int maxHeaders, long maxBodyBytes) {
        /** Whether a body of {@code bytes} is over the limit (0: no limit). */
        public boolean bodyTooLarge(long bytes) {
            return maxBodyBytes > 0 && bytes > maxBodyBytes;
        }
    }

    public ClientLimits clientLimits() {
        return new ClientLimits(clientIdleTimeout, tunnelIdleTimeout, maxHeaders, maxBodyBytes);
    }

    /** The names of the four route headers, lower case. */
    public record RouteHeaderNames(String tenant, String service, String env, String version) {
    }

    /** Values used when a route header is absent; null when the header is required. */
    public record RouteDefaults(String tenant, String env, String version) {
    }

    /**
     * How a request without a service header is routed by its authority.
     *
     * @param hostSuffixes TM_HOST_SUFFIXES, default .svc.cluster.local,.svc: stripped from the
     *                     authority's host before it is read as a service name (longest first)
     * @param passThrough  TM_OUTBOUND_POLICY, default allow-any (true): an authority that is no
     *                     route name is passed through as a forward proxy would; registry-only
     *                     (false) refuses it with 403 outbound_forbidden
     * @param connectPorts TM_CONNECT_PORTS, default 443: the ports a CONNECT may tunnel to (RFC 9110
     *                     section 9.3.6); empty for every port ({@code *})
     */
    public record Outbound(List<String> hostSuffixes, boolean passThrough, Set<Integer> connectPorts) {
        public Outbound {
            hostSuffixes = List.copyOf(hostSuffixes);
            connectPorts = Set.copyOf(connectPorts);
        }

        public boolean connectAllowed(int port) {
            return connectPorts.isEmpty() || connectPorts.contains(port);
        }
    }

    /**
     * @param connectTimeout  TM_UPSTREAM_CONNECT_TIMEOUT_MS, default 2000 (then 502)
     * @param responseTimeout TM_UPSTREAM_RESPONSE_TIMEOUT_MS, default 15000: from the request to the
     *                        response's headers (then 504)
     * @param streamIdleTimeout TM_UPSTREAM_IDLE_TIMEOUT_MS, default 60000: a response body that
     *                        stalls this long is cut off
     * @param poolIdleTimeout TM_UPSTREAM_POOL_IDLE_MS, default 4000: a pooled connection unused this
     *                        long is closed; keep it below the upstreams' keep-alive timeout (Node.js
     *                        closes idle connections after 5 s) so we never reuse one they are closing
     * @param maxConnections  TM_UPSTREAM_MAX_CONNECTIONS, default 1024 per upstream and event loop
     * @param caFile          TM_UPSTREAM_CA_FILE, default none: PEM certificates that https upstreams
     *                        are verified against instead of the JDK's trust store
     * @param breaker         the circuit breaker each event loop keeps per upstream
     * @param retry           when a request that never reached its upstream is tried again
     * @param balancing       outlier ejection and the panic threshold of routes with several endpoints
     */
    public record Upstream(Duration connectTimeout, Duration responseTimeout, Duration streamIdleTimeout,
                           Duration poolIdleTimeout, Duration poolEvictAfter, int maxConnections, String caFile,
                           CircuitBreaker.Settings breaker, RetryPolicy retry, Balancing balancing) {
    }

    /**
     * How a route's endpoints are balanced (Envoy's outlier detection, with its defaults).
     *
     * @param consecutiveFailures TM_OUTLIER_CONSECUTIVE_FAILURES, default 5: connect failures, resets or
     *                            5xx answers in a row that eject an endpoint
     * @param baseEjection        TM_OUTLIER_EJECTION_MS, default 30000: an ejection lasts this × the
     *                            times the endpoint has been ejected
     * @param panicPercent        TM_LB_PANIC_PERCENT, default 50: below this share of endpoints not
     *                            ejected, every endpoint is balanced over (panic, logged)
     */
    public record Balancing(int consecutiveFailures, Duration baseEjection, int panicPercent) {
    }

    /**
     * @param timeout         TM_LOOKUP_TIMEOUT_MS, default 1000: an unknown route whose lookup takes
     *                        longer gets 503 route_lookup_unavailable
     * @param positiveTtl     TM_ROUTE_TTL_MS, default 60000: an entry older than this is re-confirmed
     * @param negativeTtl     TM_NEGATIVE_TTL_MS, default 10000: the same for unknown or inactive routes
     * @param refreshAheadPercent TM_REFRESH_AHEAD_PERCENT, default 80: an entry in use is refreshed in
     *                        the background once this share of its TTL has passed
     * @param breaker         the settings of the Redis and the PostgreSQL circuit breakers
     */
    public record Lookup(Duration timeout, Duration positiveTtl, Duration negativeTtl, int refreshAheadPercent,
                         CircuitBreaker.Settings breaker) {
    }

    public static ProxyConfig fromEnv(Map<String, String> env) {
        Settings s = new Settings(env);
        RouteHeaderNames headers = new RouteHeaderNames(
                headerName(s, "TM_HEADER_TENANT", "x-tm-tenant"),
                headerName(s, "TM_HEADER_SERVICE", "x-tm-service"),
                headerName(s, "TM_HEADER_ENV", "x-tm-env"),
                headerName(s, "TM_HEADER_VERSION", "x-tm-version"));
        RouteDefaults defaults = new RouteDefaults(
                optionalName(s, "TM_TENANT"), optionalName(s, "TM_ENV"), optionalName(s, "TM_DEFAULT_VERSION"));
        // One set of breaker settings for Redis, PostgreSQL and every upstream.
        CircuitBreaker.Settings breaker = new CircuitBreaker.Settings(
                s.integer("TM_BREAKER_FAILURES", 5, 0, 1_000_000),
                s.integer("TM_BREAKER_FAILURE_RATE", 50, 0, 100),
                s.integer("TM_BREAKER_MIN_CALLS", 20, 1, 1_000_000),
                s.millis("TM_BREAKER_WINDOW_MS", 10000, 100),
                s.millis("TM_BREAKER_OPEN_MS", 2000, 10));
        RetryPolicy retry = new RetryPolicy(
                s.integer("TM_UPSTREAM_RETRIES", 2, 0, 10),
                s.millis("TM_UPSTREAM_RETRY_BACKOFF_MS", 25, 0),
                s.millis("TM_UPSTREAM_RETRY_BACKOFF_MAX_MS", 250, 0),
                s.integer("TM_UPSTREAM_RETRY_BUDGET_PERCENT", 20, 0, 100),
                s.integer("TM_UPSTREAM_RETRY_MIN_CONCURRENT", 3, 0, 1_000_000));
        Upstream upstream = new Upstream(
                s.millis("TM_UPSTREAM_CONNECT_TIMEOUT_MS", 2000, 1),
                s.millis("TM_UPSTREAM_RESPONSE_TIMEOUT_MS", 15000, 1),
                s.millis("TM_UPSTREAM_IDLE_TIMEOUT_MS", 60000, 1),
                s.millis("TM_UPSTREAM_POOL_IDLE_MS", 4000, 100),
                s.millis("TM_UPSTREAM_POOL_EVICT_MS", 120000, 100),
                s.integer("TM_UPSTREAM_MAX_CONNECTIONS", 1024, 1, 1 << 20),
                s.string("TM_UPSTREAM_CA_FILE", null),
                breaker, retry, new Balancing(
                        s.integer("TM_OUTLIER_CONSECUTIVE_FAILURES", 5, 1, 1000),
                        s.millis("TM_OUTLIER_EJECTION_MS", 30000, 10),
                        s.integer("TM_LB_PANIC_PERCENT", 50, 0, 100)));
        Lookup lookup = new Lookup(
                s.millis("TM_LOOKUP_TIMEOUT_MS", 1000, 10),
                s.millis("TM_ROUTE_TTL_MS", 60000, 1000),
                s.millis("TM_NEGATIVE_TTL_MS", 10000, 100),
                s.integer("TM_REFRESH_AHEAD_PERCENT", 80, 1, 100),
                breaker);
        TenantPolicy tenants = TenantPolicy.of(defaults.tenant(), s.string("TM_ALLOWED_TENANTS", null));
        Outbound outbound = new Outbound(hostSuffixes(s.string("TM_HOST_SUFFIXES", ".svc.cluster.local,.svc")),
                outboundPolicy(s.string("TM_OUTBOUND_POLICY", "allow-any")),
                connectPorts(s.string("TM_CONNECT_PORTS", "443")));
        return new ProxyConfig(
                s.string("TM_PROXY_BIND", "127.0.0.1"),
                s.integer("TM_PROXY_PORT", 15001, 0, 65535),
                s.string("TM_PROXY_ADMIN_BIND", "127.0.0.1"),
                s.integer("TM_PROXY_ADMIN_PORT", 15000, 0, 65535),
                s.integer("TM_PROXY_EVENT_LOOPS", Runtime.getRuntime().availableProcessors(), 1, 256),
                Transport.checkName(s.string("TM_PROXY_TRANSPORT", Transport.AUTO)),
                headers, defaults, tenants, outbound,
                s.integer("TM_PROXY_MAX_INITIAL_LINE", 8192, 256, 1 << 20),
                s.integer("TM_PROXY_MAX_HEADER_SIZE", 16384, 1024, 1 << 20),
                s.integer("TM_PROXY_MAX_HEADERS", 100, 10, 10_000),
                s.longValue("TM_PROXY_MAX_BODY_BYTES", 0, 0, Long.MAX_VALUE),
                s.integer("TM_PROXY_TENANT_MAX_IN_FLIGHT", 0, 0, 1_000_000),
                s.millis("TM_PROXY_IDLE_TIMEOUT_MS", 60000, 100),
                s.millis("TM_TUNNEL_IDLE_TIMEOUT_MS", 300000, 100),
                s.millis("TM_PROXY_DRAIN_TIMEOUT_MS", 15000, 0),
                upstream, lookup,
                Path.of(s.string("TM_L1_FILE", "/var/tmp/traffic-manager/routes.l1")),
                s.integer("TM_L1_MAX_ENTRIES", 250_000, 1000, 100_000_000),
                s.integer("TM_NEAR_CACHE_ENTRIES", 10_000, 0, 10_000_000),
                s.string("TM_REDIS_URL", "redis://127.0.0.1:56379"),
                s.string("TM_DB_URL", "jdbc:postgresql://127.0.0.1:56432/trafficmanager"),
                s.string("TM_DB_USER", "tm"),
                s.string("TM_DB_PASSWORD", "tm"),
                s.integer("TM_LOOKUP_DB_POOL", 4, 1, 64),
                s.string("TM_KAFKA_BOOTSTRAP", "127.0.0.1:59092"),
                s.string("TM_KAFKA_TOPIC", "tm.route-events"),
                KafkaClientSettings.fromEnv(env), ObserveConfig.fromEnv(s));
    }

    public boolean redisEnabled() {
        return !redisUrl.equalsIgnoreCase("off");
    }

    private static String headerName(Settings s, String name, String fallback) {
        String value = s.string(name, fallback).toLowerCase(java.util.Locale.ROOT);
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (!(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_')) {
                throw new IllegalArgumentException(name + ": \"" + value + "\" (expected: a header name of [a-z0-9-_])");
            }
        }
        return value;
    }

    /** Suffixes such as {@code .svc.cluster.local}, longest first; {@code none} for none. */
    private static List<String> hostSuffixes(String value) {
        List<String> suffixes = new ArrayList<>();
        if (value.equalsIgnoreCase("none")) {
            return suffixes;
        }
        for (String part : value.split(",")) {
            String suffix = part.trim().toLowerCase(Locale.ROOT);
            if (!suffix.matches("(\\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)+")) {
                throw new IllegalArgumentException("TM_HOST_SUFFIXES: \"" + value + "\" (expected: none, or domain suffixes "
                        + "separated by commas, each starting with a dot, such as .svc.cluster.local; \"" + suffix
                        + "\" is not one)");
            }
            suffixes.add(suffix);
        }
        suffixes.sort(Comparator.comparingInt(String::length).reversed());
        return suffixes;
    }

    /** Ports separated by commas; {@code *} (every port) as the empty set. */
    private static Set<Integer> connectPorts(String value) {
        Set<Integer> ports = new TreeSet<>();
        if (value.equals("*")) {
            return ports;
        }
        for (String part : value.split(",")) {
            String port = part.trim();
            if (!port.matches("[0-9]{1,5}") || Integer.parseInt(port) < 1 || Integer.parseInt(port) > 65535) {
                throw new IllegalArgumentException("TM_CONNECT_PORTS: \"" + value + "\" (expected: * or ports from 1 to "
                        + "65535 separated by commas; \"" + port + "\" is not one)");
            }
            ports.add(Integer.parseInt(port));
        }
        return ports;
    }

    private static boolean outboundPolicy(String value) {
        return switch (value.toLowerCase(Locale.ROOT).replace('_', '-')) {
            case "allow-any" -> true;
            case "registry-only" -> false;
            default -> throw new IllegalArgumentException("TM_OUTBOUND_POLICY: \"" + value
                    + "\" (expected: allow-any or registry-only)");
        };
    }

    private static String optionalName(Settings s, String name) {
        String value = s.string(name, null);
        if (value != null && !Names.isValid(value)) {
            throw new IllegalArgumentException(name + ": \"" + value + "\" (expected: " + Names.RULE + ")");
        }
        return value;
    }
}
