package dev.trafficmanager.proxy.admin;

import dev.trafficmanager.proxy.lookup.Resolver;
import dev.trafficmanager.proxy.lookup.RouteEntry;
import dev.trafficmanager.proxy.lookup.RouteKeyProbe;
import dev.trafficmanager.proxy.metrics.ProxyMetrics;
import dev.trafficmanager.proxy.routing.ErrorResponses;
import dev.trafficmanager.proxy.routing.JsonText;
import dev.trafficmanager.proxy.routing.RequestRouter;
import dev.trafficmanager.proxy.routing.RouteHeaders;
import dev.trafficmanager.route.TrafficJson;
import dev.trafficmanager.proxy.routing.TenantPolicy;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The admin port: {@code /healthz}, {@code /readyz}, {@code /metrics} (Prometheus text),
 * {@code /admin/routes} (what L1 holds) and {@code /admin/resolve} (which tier answers for a key,
 * and the entry's age). Requests arrive aggregated. One per connection: while an
 * {@code /admin/resolve} waits for a lookup, pipelined requests wait too, so answers keep their order.
 */
public final class AdminHandler extends ChannelInboundHandlerAdapter {
    private static final int DEFAULT_LIST_LIMIT = 100;

    private final ProxyMetrics metrics;
    private final Resolver resolver;
    private final RouteHeaders routeHeaders;
    private final TenantPolicy tenants;
    private final Supplier<String> notReady;
    private final Supplier<String> unhealthy;
    private final ArrayDeque<FullHttpRequest> waiting = new ArrayDeque<>();
    private boolean busy;

    /**
     * {@code notReady} says why the sidecar should not get traffic yet, or null when it is ready;
     * {@code unhealthy} why it should be restarted (a background thread died), or null.
     */
    public AdminHandler(ProxyMetrics metrics, Resolver resolver, RequestRouter router, Supplier<String> notReady,
                        Supplier<String> unhealthy) {
        this.metrics = metrics;
        this.resolver = resolver;
        this.routeHeaders = router.routeHeaders();
        this.tenants = router.tenants();
        this.notReady = notReady;
        this.unhealthy = unhealthy;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest request)) {
            ReferenceCountUtil.release(msg);
        } else if (busy) {
            waiting.add(request);
        } else {
            handle(ctx, request);
        }
    }

    private void handle(ChannelHandlerContext ctx, FullHttpRequest request) {
        try {
            answer(ctx, request);
        } finally {
            request.release();
        }
    }

    /** An asynchronous answer was written: go on with the requests that waited for it. */
    private void resume(ChannelHandlerContext ctx) {
        busy = false;
        FullHttpRequest next;
        while (!busy && (next = waiting.poll()) != null) {
            handle(ctx, next);
        }
        if (!busy) {
            ctx.channel().config().setAutoRead(true);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        FullHttpRequest next;
        while ((next = waiting.poll()) != null) {
            next.release();
        }
        ctx.fireChannelInactive();
    }

    private void answer(ChannelHandlerContext ctx, HttpRequest request) {
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        if (request.decoderResult().isFailure()) {
            error(ctx, HttpResponseStatus.BAD_REQUEST, "bad_request", "malformed request", false);
            return;
        }
        QueryStringDecoder query = new QueryStringDecoder(request.uri());
        String path = query.path();
        if (!List.of("/healthz", "/readyz", "/metrics", "/admin/routes", "/admin/resolve").contains(path)) {
            error(ctx, HttpResponseStatus.NOT_FOUND, "not_found",
                    "no such resource: " + path + " (expected: /healthz, /readyz, /metrics, /admin/routes, /admin/resolve)", keepAlive);
            return;
        }
        if (!request.method().equals(HttpMethod.GET) && !request.method().equals(HttpMethod.HEAD)) {
            error(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED, "method_not_allowed",
                    request.method() + " " + path + " (expected: GET)", keepAlive);
            return;
        }
        switch (path) {
            case "/healthz" -> health(ctx, keepAlive);
            case "/readyz" -> readiness(ctx, keepAlive);
            case "/metrics" -> {
                FullHttpResponse response = ErrorResponses.json(ctx.alloc(), HttpResponseStatus.OK, metrics.scrape(), keepAlive);
                response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
                write(ctx, response, keepAlive);
            }
            case "/admin/routes" -> routes(ctx, query.parameters(), keepAlive);
            default -> resolve(ctx, query.parameters(), keepAlive);
        }
    }

    private void health(ChannelHandlerContext ctx, boolean keepAlive) {
        String problem = unhealthy.get();
        if (problem == null) {
            json(ctx, HttpResponseStatus.OK, "{\"status\":\"ok\"}\n", keepAlive);
        } else {
            json(ctx, HttpResponseStatus.SERVICE_UNAVAILABLE,
                    "{\"status\":\"failing\",\"reason\":" + JsonText.quote(problem) + "}\n", keepAlive);
        }
    }

    private void readiness(ChannelHandlerContext ctx, boolean keepAlive) {
        String problem = notReady.get();
        if (problem == null) {
            json(ctx, HttpResponseStatus.OK, "{\"status\":\"ready\"}\n", keepAlive);
        } else {
            json(ctx, HttpResponseStatus.SERVICE_UNAVAILABLE,
                    "{\"status\":\"not_ready\",\"reason\":" + JsonText.quote(problem) + "}\n", keepAlive);
        }
    }

    private void routes(ChannelHandlerContext ctx, Map<String, List<String>> params, boolean keepAlive) {
        String prefix = first(params, "prefix", "");
        int limit;
        try {
            limit = Integer.parseInt(first(params, "limit", String.valueOf(DEFAULT_LIST_LIMIT)));
        } catch (NumberFormatException e) {
            limit = -1;
        }
        if (limit < 1 || limit > 10_000) {
            error(ctx, HttpResponseStatus.BAD_REQUEST, "invalid_parameter", "limit (expected: 1 to 10000)", keepAlive);
            return;
        }
        long now = resolver.now();
        StringBuilder out = new StringBuilder("{\"l1_entries\":").append(resolver.l1().size()).append(",\"routes\":[");
        // Only the tenants this sidecar serves: its pod must not learn other tenants' routes and URLs.
        List<RouteEntry> entries = resolver.l1().list(prefix, limit, tenants::allowsKey);
        for (int i = 0; i < entries.size(); i++) {
            out.append(i == 0 ? "\n  " : ",\n  ").append(entryJson(entries.get(i), now));
        }
        json(ctx, HttpResponseStatus.OK, out.append("\n]}\n").toString(), keepAlive);
    }

    private void resolve(ChannelHandlerContext ctx, Map<String, List<String>> params, boolean keepAlive) {
        RouteKeyProbe probe = new RouteKeyProbe();
        RouteHeaders.Problem problem = params.containsKey("split") // the service's split instead of a version's route
                ? routeHeaders.readSplitKey(first(params, "tenant", null), first(params, "service", null), first(params, "env", null), probe)
                : routeHeaders.read(first(params, "tenant", null), first(params, "service", null), first(params, "env", null),
                        first(params, "version", null), probe);
        if (problem != null) {
            error(ctx, HttpResponseStatus.BAD_REQUEST, "invalid_parameter",
                    problem.message() + " (as query parameters: tenant, service, env, version; or split for the split)", keepAlive);
            return;
        }
        if (!tenants.allows(probe.tenant())) {
            error(ctx, HttpResponseStatus.FORBIDDEN, "tenant_forbidden", tenants.refusal(probe.tenant()), keepAlive);
            return;
        }
        busy = true;
        ctx.channel().config().setAutoRead(false); // pipelined requests wait in the socket meanwhile
        resolver.resolveVerbose(probe).whenComplete((resolution, failure) -> ctx.executor().execute(() -> {
            if (failure != null) {
                error(ctx, HttpResponseStatus.SERVICE_UNAVAILABLE, "route_lookup_unavailable",
                        "no tier could answer and nothing is cached", keepAlive);
            } else {
                String body = "{\"tier\":\"" + resolution.tier().label() + "\",\"stale\":"
                        + resolution.stale() + ",\"entry\":" + entryJson(resolution.entry(), resolver.now()) + "}\n";
                json(ctx, HttpResponseStatus.OK, body, keepAlive);
            }
            resume(ctx);
        }));
    }

    private static String entryJson(RouteEntry entry, long now) {
        return "{\"key\":" + JsonText.quote(entry.key())
                + ",\"exists\":" + entry.exists()
                + ",\"url\":" + (entry.url() == null ? "null" : JsonText.quote(entry.url()))
                + ",\"active\":" + entry.active()
                + ",\"revision\":" + entry.revision()
                + (entry.split() != null ? ",\"split\":" + TrafficJson.toJson(entry.split()) : "")
                + (entry.options().isDefault() ? "" : ",\"options\":" + TrafficJson.toJson(entry.options()))
                + ",\"age_ms\":" + Math.max(0, now - entry.fetchedAtMillis()) + "}";
    }

    private static String first(Map<String, List<String>> params, String name, String fallback) {
        List<String> values = params.get(name);
        return values == null || values.isEmpty() ? fallback : values.get(0);
    }

    private static void error(ChannelHandlerContext ctx, HttpResponseStatus status, String code, String message, boolean keepAlive) {
        write(ctx, ErrorResponses.error(ctx.alloc(), status, code, message, keepAlive), keepAlive);
    }

    private static void json(ChannelHandlerContext ctx, HttpResponseStatus status, String json, boolean keepAlive) {
        write(ctx, ErrorResponses.json(ctx.alloc(), status, json, keepAlive), keepAlive);
    }

    private static void write(ChannelHandlerContext ctx, FullHttpResponse response, boolean keepAlive) {
        if (keepAlive) {
            ctx.writeAndFlush(response);
        } else {
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
