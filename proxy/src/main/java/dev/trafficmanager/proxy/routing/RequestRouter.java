package dev.trafficmanager.proxy.routing;

import dev.trafficmanager.proxy.ProxyConfig;
import dev.trafficmanager.proxy.upstream.UpstreamTarget;
import dev.trafficmanager.route.Names;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import java.security.SecureRandom;
import java.util.List;

/**
 * Decides where a request goes, from its route headers, else its authority:
 * <ol>
 *   <li>the target and the Host header must be well formed (one Host, RFC 9112 section 3.2);</li>
 *   <li>a tenant header naming a tenant this sidecar does not serve is refused (403), whatever
 *       the destination;</li>
 *   <li>a service header routes by the headers, as always;</li>
 *   <li>else the authority (an absolute-form target's, or the Host header's) names the service when,
 *       with its port ignored and a configured suffix stripped, it is one name without dots;</li>
 *   <li>any other authority is an outside host: passed through (or tunnelled for CONNECT) under
 *       the allow-any outbound policy, refused (403) under registry-only.</li>
 * </ol>
 * A route's request path is made safe to append to the route's base path ({@link RequestPath});
 * an outside host's passes verbatim, as it has no base to climb out of.
 * A request that carries this sidecar's own {@code Via} pseudonym has come round in a loop (an
 * outside host that is the sidecar under another name, a route pointing at it): 508.
 * Thread-safe and immutable; the route-header path allocates little: the Host check's list, and
 * a tenant header's.
 */
public final class RequestRouter {
    private final RouteHeaders routeHeaders;
    private static final HttpResponseStatus LOOP_DETECTED = HttpResponseStatus.valueOf(508, "Loop Detected");

    private final AsciiString tenantHeader;
    private final AsciiString serviceHeader;
    private final String defaultTenant;
    private final TenantPolicy tenants;
    private final ProxyConfig.Outbound outbound;
    /** This sidecar's name in Via headers (RFC 9110 section 7.6.3): random per process, for loop detection. */
    private final String pseudonym = String.format("tm-%08x", new SecureRandom().nextInt());
    private final String via11 = "1.1 " + pseudonym;
    private final String via10 = "1.0 " + pseudonym;

    public RequestRouter(ProxyConfig.RouteHeaderNames names, ProxyConfig.RouteDefaults defaults, TenantPolicy tenants,
                         ProxyConfig.Outbound outbound) {
        this.routeHeaders = new RouteHeaders(names, defaults);
        this.tenantHeader = routeHeaders.tenantHeader();
        this.serviceHeader = routeHeaders.serviceHeader();
        this.defaultTenant = defaults.tenant();
        this.tenants = tenants;
        this.outbound = outbound;
    }

    public RouteHeaders routeHeaders() {
        return routeHeaders;
    }

    public TenantPolicy tenants() {
        return tenants;
    }

    /** What this sidecar adds to a forwarded request's Via, for a request received as {@code version}. */
    String via(HttpVersion version) {
        return version.equals(HttpVersion.HTTP_1_0) ? via10 : via11;
    }

    /** Fills {@code out} for {@code request}, which arrived on a connection to local port {@code localPort}. */
    void decide(HttpRequest request, int localPort, Destination out) {
        boolean connect = request.method().equals(HttpMethod.CONNECT);
        RequestTarget target;
        try {
            target = RequestTarget.parse(request.uri(), connect);
        } catch (RequestTarget.Invalid e) {
            out.refuse(HttpResponseStatus.BAD_REQUEST, e.code, e.getMessage());
            return;
        }
        HttpHeaders headers = request.headers();
        String host = headers.get(HttpHeaderNames.HOST);
        if (!hostHeaderValid(host, headers, request.protocolVersion(), out)) {
            return;
        }
        if (looped(headers, out)) {
            return;
        }
        String tenant = headers.get(tenantHeader);
        if (tenant != null && !tenantAllowed(tenant, headers, out)) {
            return;
        }
        if (connect) {
            connect(target.authority(), localPort, out);
            return;
        }
        String service = headers.get(serviceHeader);
        String forwardedHost = target.authority() != null ? target.authority().toString() : host;
        if (service == null) {
            Authority authority = target.authority() != null ? target.authority() : host != null ? Authority.parse(host) : null;
            if (authority == null) {
                out.refuse(HttpResponseStatus.BAD_REQUEST, "missing_route_header", "header " + serviceHeader
                        + " is required when the request has no authority (no Host header) to name the service by");
                return;
            }
            service = serviceName(authority);
            if (service == null) {
                outside(authority, target, tenant != null ? tenant : defaultTenant, localPort, out);
                return;
            }
        }
        RouteHeaders.Problem problem = routeHeaders.readRequest(headers, tenant, service, out.probe);
        if (problem != null) {
            out.refuse(HttpResponseStatus.BAD_REQUEST, problem.code(), problem.message());
            return;
        }
        String path;
        try {
            path = RequestPath.normalize(target.originForm());
        } catch (RequestPath.Invalid e) {
            out.refuse(HttpResponseStatus.BAD_REQUEST, "invalid_path", e.getMessage());
            return;
        }
        out.route(path, forwardedHost);
    }

    /**
     * The service an authority names, or null for an outside host: with its port ignored, a trailing
     * dot and the first configured suffix it ends with stripped, one valid name without dots
     * ({@code payments}, {@code payments:8080}, {@code payments.svc.cluster.local}); never an
     * address or {@code localhost}.
     */
    String serviceName(Authority authority) {
        if (authority.ipLiteral()) {
            return null;
        }
        String name = authority.host();
        if (name.endsWith(".")) {
            name = name.substring(0, name.length() - 1);
        }
        for (String suffix : outbound.hostSuffixes()) {
            if (name.length() > suffix.length() && name.endsWith(suffix)) {
                name = name.substring(0, name.length() - suffix.length());
                break;
            }
        }
        return name.indexOf('.') < 0 && !name.equals("localhost") && Names.isValid(name) ? name : null;
    }

    private boolean hostHeaderValid(String host, HttpHeaders headers, HttpVersion version, Destination out) {
        if (host == null) {
            if (version.equals(HttpVersion.HTTP_1_1)) {
                out.refuse(HttpResponseStatus.BAD_REQUEST, "invalid_host",
                        "no Host header (expected: one in every HTTP/1.1 request, RFC 9112 section 3.2)");
                return false;
            }
            return true;
        }
        List<String> hosts = headers.getAll(HttpHeaderNames.HOST);
        if (hosts.size() > 1) {
            out.refuse(HttpResponseStatus.BAD_REQUEST, "invalid_host",
                    hosts.size() + " Host headers (expected: one, RFC 9112 section 3.2)");
            return false;
        }
        String problem = Authority.problem(host, false);
        if (problem != null) {
            out.refuse(HttpResponseStatus.BAD_REQUEST, "invalid_host", "Host " + JsonText.quote(RequestTarget.shorten(host))
                    + ": " + problem + (problem.startsWith("not ") ? "" : " (expected: " + Authority.EXPECTED + ")"));
            return false;
        }
        return true;
    }

    private boolean looped(HttpHeaders headers, Destination out) {
        if (!headers.contains(HttpHeaderNames.VIA)) {
            return false; // most requests: no list allocated
        }
        for (String via : headers.getAll(HttpHeaderNames.VIA)) {
            if (via.contains(pseudonym)) {
                out.refuse(LOOP_DETECTED, "loop_detected", "the request came back to this sidecar (Via: "
                        + JsonText.quote(RequestTarget.shorten(via)) + "): its destination leads to the sidecar itself");
                return true;
            }
        }
        return false;
    }

    private boolean tenantAllowed(String tenant, HttpHeaders headers, Destination out) {
        int count = headers.getAll(tenantHeader).size();
        if (count > 1) {
            // The upstream would see both: one tenant header, or none.
            out.refuse(HttpResponseStatus.BAD_REQUEST, "invalid_route_header", count + " " + tenantHeader
                    + " headers (expected: one)");
            return false;
        }
        if (!Names.isValid(tenant)) {
            RouteHeaders.Problem problem = routeHeaders.invalidTenant(tenant);
            out.refuse(HttpResponseStatus.BAD_REQUEST, problem.code(), problem.message());
            return false;
        }
        if (!tenants.allows(tenant)) {
            out.refuse(HttpResponseStatus.FORBIDDEN, "tenant_forbidden", tenants.refusal(tenant));
            return false;
        }
        return true;
    }

    private void connect(Authority authority, int localPort, Destination out) {
        String service = serviceName(authority);
        if (service != null) {
            out.refuse(HttpResponseStatus.BAD_REQUEST, "connect_to_route", "CONNECT " + authority + ": " + service
                    + " is a route name; call it over plain http (http://" + service + "/...) and the sidecar "
                    + "originates TLS itself when the route's URL is https");
            return;
        }
        if (refusedOutside(authority, null, localPort, out)) {
            return;
        }
        if (!outbound.connectAllowed(authority.port())) {
            out.refuse(HttpResponseStatus.FORBIDDEN, "outbound_forbidden", "CONNECT " + authority + ": port "
                    + authority.port() + " is not one TM_CONNECT_PORTS allows (" + outbound.connectPorts() + ")");
            return;
        }
        out.tunnel(UpstreamTarget.outside(false, authority.host(), authority.port()));
    }

    /** An outside host passed through; {@code tenant} (may be null) holds the bulkhead slot. */
    private void outside(Authority authority, RequestTarget target, String tenant, int localPort, Destination out) {
        if (refusedOutside(authority, target.originForm(), localPort, out)) {
            return;
        }
        boolean https = target.https();
        out.passThrough(target.originForm(), authority.toString(),
                UpstreamTarget.outside(https, authority.host(), authority.portOr(https ? 443 : 80)), tenant);
    }

    /** Refuses an outside host under registry-only, and this sidecar itself (a loop). */
    private boolean refusedOutside(Authority authority, String originForm, int localPort, Destination out) {
        if (authority.local() && authority.portOr(80) == localPort) {
            out.refuse(HttpResponseStatus.BAD_REQUEST, "missing_route_header", originForm == null
                    ? "CONNECT " + authority + " is this sidecar itself (expected: an outside host)"
                    : "header " + serviceHeader + " is required: the request's authority " + authority
                    + " is this sidecar, not a service name");
            return true;
        }
        if (!outbound.passThrough()) {
            out.refuse(HttpResponseStatus.FORBIDDEN, "outbound_forbidden", authority + " is not a route of this "
                    + "sidecar (a route is one name, after TM_HOST_SUFFIXES are stripped), and TM_OUTBOUND_POLICY="
                    + "registry-only refuses outside hosts");
            return true;
        }
        return false;
    }
}
