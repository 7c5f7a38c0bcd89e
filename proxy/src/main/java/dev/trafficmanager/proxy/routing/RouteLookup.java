package dev.trafficmanager.proxy.routing;

import dev.trafficmanager.proxy.balancing.SplitChoice;
import dev.trafficmanager.proxy.lookup.RouteEntry;
import dev.trafficmanager.proxy.lookup.RouteKeyProbe;
import dev.trafficmanager.proxy.metrics.ProxyMetrics;
import dev.trafficmanager.proxy.observe.AccessRecord;
import dev.trafficmanager.route.Split;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.cookie.Cookie;
import io.netty.handler.codec.http.cookie.ServerCookieDecoder;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds a routed request's entry and hands the exchange to it. A request that names its version
 * goes to that route. One that names none takes its version from the service's split (weighted, and
 * sticky by a header or cookie, {@link SplitChoice}), skipping versions whose route is missing or
 * inactive (counted), else from {@code TM_DEFAULT_VERSION}. Lookups answer from the near cache
 * or L1 on the event loop when they can, else asynchronously, continuing on the connection's loop.
 * One per connection, confined to its event loop.
 */
final class RouteLookup {
    private static final Logger log = LoggerFactory.getLogger(RouteLookup.class);

    private final ChannelHandlerContext ctx;
    private final ProxyServices services;
    private final String clientIp;
    /** The access log's record of the request being routed (one at a time per connection), or null. */
    private AccessRecord record;

    RouteLookup(ChannelHandlerContext ctx, ProxyServices services, String clientIp) {
        this.ctx = ctx;
        this.services = services;
        this.clientIp = clientIp;
    }

    /** Routes {@code exchange} by {@code probe}: a route key, or a split key when the request named no version. */
    void route(Exchange exchange, RouteKeyProbe probe, HttpHeaders headers, AccessRecord record) {
        this.record = record;
        if (!probe.isSplitKey()) {
            lookup(exchange, probe, entry -> routeTo(exchange, entry));
            return;
        }
        String tenant = probe.tenant().toString();
        String service = probe.service().toString();
        String env = probe.env().toString();
        String fallback = services.router().routeHeaders().defaultVersion();
        lookup(exchange, probe, fallback, split -> {
            if (split.split() != null && split.active()) {
                tryVersion(exchange, probe, tenant, service, env, split.key(),
                        new SplitChoice(split.split(), sticky(split.split(), headers)));
                return;
            }
            if (fallback == null) {
                RouteHeaders.Problem problem = services.router().routeHeaders().missingVersion(split.key());
                exchange.fail(HttpResponseStatus.BAD_REQUEST, problem.code(), problem.message());
                return;
            }
            probe.set(tenant, service, env, fallback);
            lookup(exchange, probe, entry -> routeTo(exchange, entry));
        });
    }

    /** The split's next version: routed if active, else skipped for the next one; 404 when none is left. */
    private void tryVersion(Exchange exchange, RouteKeyProbe probe, String tenant, String service, String env,
                            String splitKey, SplitChoice choice) {
        String version = choice.next();
        if (version == null) {
            exchange.fail(HttpResponseStatus.NOT_FOUND, "route_not_found", "split " + splitKey
                    + ": none of its versions with a weight has an active route (tried " + String.join(", ", choice.skipped()) + ")");
            return;
        }
        probe.set(tenant, service, env, version);
        lookup(exchange, probe, entry -> {
            if (entry.active()) {
                exchange.forwardRoute(entry);
                return;
            }
            services.metrics().splitSkips().increment();
            choice.skip(version);
            tryVersion(exchange, probe, tenant, service, env, splitKey, choice);
        });
    }

    /** The request's sticky value for {@code split}: its header's, else its cookie's; null when it has none. */
    static String sticky(Split split, HttpHeaders headers) {
        if (split.stickyHeader() != null) {
            String value = headers.get(split.stickyHeader());
            if (value != null) {
                return value;
            }
        }
        if (split.stickyCookie() != null) {
            for (String cookies : headers.getAll(HttpHeaderNames.COOKIE)) {
                for (Cookie cookie : ServerCookieDecoder.LAX.decodeAll(cookies)) {
                    if (cookie.name().equals(split.stickyCookie())) {
                        return cookie.value();
                    }
                }
            }
        }
        return null;
    }

    /** The entry of {@code probe}'s key, from the near cache or L1 at once, else looked up; 503 when no tier answers. */
    private void lookup(Exchange exchange, RouteKeyProbe probe, Consumer<RouteEntry> then) {
        lookup(exchange, probe, null, then);
    }

    /**
     * The same for a split key: when no tier answers and nothing is cached, the split is taken to be
     * absent and {@code fallback} (the default version, if any) routes the request, so a sidecar cut
     * off from its stores routes as it did before splits. Its L1 holds every split its topic carried.
     */
    private void lookup(Exchange exchange, RouteKeyProbe probe, String fallback, Consumer<RouteEntry> then) {
        RouteEntry entry = services.resolver().cached(probe);
        if (entry != null) {
            answered(entry.key(), probe.cachedTier(), probe.cachedStale());
            then.accept(entry);
            return;
        }
        String key = probe.toString();
        services.resolver().resolve(key).whenComplete((resolution, error) ->
                ctx.executor().execute(() -> {
                    try {
                        if (exchange.ended()) {
                            return; // the client went away meanwhile
                        }
                        if (error != null && fallback != null) {
                            services.metrics().splitLookupsFailed().increment();
                            then.accept(RouteEntry.absent(key, services.resolver().now()));
                        } else if (error != null) {
                            exchange.fail(HttpResponseStatus.SERVICE_UNAVAILABLE, "route_lookup_unavailable",
                                    "the route could not be looked up: no cache tier holds it and Redis and "
                                            + "PostgreSQL did not answer in time");
                        } else {
                            answered(key, resolution.tier(), resolution.stale());
                            then.accept(resolution.entry());
                        }
                    } catch (RuntimeException e) {
                        // Outside the pipeline nothing would answer or release this request.
                        log.error("client {}: routing a looked-up request failed", clientIp, e);
                        exchange.clientGone();
                        ctx.close();
                    }
                }));
    }

    /** The request's key (a split's, then its version's) and the tier that answered, for the access log. */
    private void answered(String key, ProxyMetrics.Tier tier, boolean stale) {
        if (record != null) {
            record.lookedUp(key, tier, stale);
        }
    }

    /** Where a looked-up route leads: 404 for an unknown or inactive one, else its upstream. */
    private static void routeTo(Exchange exchange, RouteEntry entry) {
        if (entry.active()) {
            exchange.forwardRoute(entry);
        } else {
            exchange.fail(HttpResponseStatus.NOT_FOUND, "route_not_found", "no active route for " + entry.key());
        }
    }
}
