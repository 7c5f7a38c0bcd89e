package dev.trafficmanager.proxy.routing;

import dev.trafficmanager.http.HttpRefusal;
import dev.trafficmanager.proxy.lookup.RouteKeyProbe;
import dev.trafficmanager.proxy.upstream.UpstreamTarget;
import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * Where {@link RequestRouter} sends a request: one of our routes, an outside host passed through,
 * a CONNECT tunnel to an outside host, or nowhere (an error response). Mutable and not thread-safe:
 * each connection handler owns one and refills it per request, so the common case allocates
 * nothing.
 */
final class Destination {
    enum Kind { ROUTE, PASSTHROUGH, TUNNEL, REFUSED }

    final RouteKeyProbe probe = new RouteKeyProbe();
    private Kind kind;
    private String originForm;
    private String forwardedHost;
    private UpstreamTarget outside;
    private String tenant;
    private HttpResponseStatus status;
    private String code;
    private String message;

    Kind kind() {
        return kind;
    }

    /** ROUTE and PASSTHROUGH: the request target to send on, in origin form. */
    String originForm() {
        return originForm;
    }

    /** The authority the client asked for (X-Forwarded-Host), or null. */
    String forwardedHost() {
        return forwardedHost;
    }

    /** PASSTHROUGH and TUNNEL: the outside host and port. */
    UpstreamTarget outside() {
        return outside;
    }

    /** PASSTHROUGH: the tenant the request counts against in the bulkhead, or null. */
    String tenant() {
        return tenant;
    }

    HttpResponseStatus status() {
        return status;
    }

    String code() {
        return code;
    }

    String message() {
        return message;
    }

    void route(String originForm, String forwardedHost) {
        set(Kind.ROUTE, originForm, forwardedHost, null);
    }

    void passThrough(String originForm, String forwardedHost, UpstreamTarget target, String tenant) {
        set(Kind.PASSTHROUGH, originForm, forwardedHost, target);
        this.tenant = tenant;
    }

    void tunnel(UpstreamTarget target) {
        set(Kind.TUNNEL, null, null, target);
    }

    void refuse(HttpRefusal refusal) {
        refuse(refusal.status(), refusal.code(), refusal.message());
    }

    void refuse(HttpResponseStatus status, String code, String message) {
        set(Kind.REFUSED, null, null, null);
        this.status = status;
        this.code = code;
        this.message = message;
    }

    private void set(Kind kind, String originForm, String forwardedHost, UpstreamTarget outside) {
        this.kind = kind;
        this.originForm = originForm;
        this.forwardedHost = forwardedHost;
        this.outside = outside;
        this.tenant = null;
        this.status = null;
        this.code = null;
        this.message = null;
    }
}
