package dev.trafficmanager.proxy.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.trafficmanager.proxy.ProxyConfig;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Where a request goes: by its route headers, else by its authority; never to another tenant. */
class RequestRouterTest {
    private static final int PROXY_PORT = 15001;

    private static RequestRouter router(String... settings) {
        Map<String, String> env = new HashMap<>(Map.of("TM_TENANT", "team", "TM_ENV", "prod", "TM_DEFAULT_VERSION", "v1"));
        for (int i = 0; i < settings.length; i += 2) {
            env.put(settings[i], settings[i + 1]);
        }
        ProxyConfig config = ProxyConfig.fromEnv(env);
        return new RequestRouter(config.headers(), config.defaults(), config.tenants(), config.outbound());
    }

    private static HttpRequest request(HttpMethod method, String uri, String... headers) {
        HttpRequest request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, method, uri);
        for (int i = 0; i < headers.length; i += 2) {
            request.headers().add(headers[i], headers[i + 1]);
        }
        return request;
    }

    private static Destination decide(RequestRouter router, HttpRequest request) {
        Destination destination = new Destination();
        router.decide(request, PROXY_PORT, destination);
        return destination;
    }

    private static Destination get(RequestRouter router, String uri, String... headers) {
        return decide(router, request(HttpMethod.GET, uri, headers));
    }

    /** A request that names no version is routed by its split key (tenant/service/env): the split, else the default version, picks it. */
    private static void assertRoute(Destination d, String key, String originForm) {
        assertThat(d.kind()).as(d.message()).isEqualTo(Destination.Kind.ROUTE);
        assertThat(d.probe.toString()).isEqualTo(key);
        assertThat(d.originForm()).isEqualTo(originForm);
    }

    private static void assertRefused(Destination d, int status, String code) {
        assertThat(d.kind()).isEqualTo(Destination.Kind.REFUSED);
        assertThat(d.status().code()).as(d.message()).isEqualTo(status);
        assertThat(d.code()).as(d.message()).isEqualTo(code);
    }

    @Test
    void theHostHeaderNamesTheServiceWithItsPortIgnoredAndSuffixesStripped() {
        RequestRouter router = router();
        for (String host : new String[] {"payments", "payments:8080", "payments.svc.cluster.local", "payments.svc",
                "Payments.SVC.cluster.local:80", "payments.svc.cluster.local."}) {
            Destination d = get(router, "/pay?x=1", "Host", host);
            assertRoute(d, "team/payments/prod", "/pay?x=1");
            assertThat(d.forwardedHost()).isEqualTo(host);
        }
    }

    @Test
    void anAbsoluteFormTargetNamesTheServiceAndWinsOverTheHostHeader() {
        Destination d = get(router(), "http://payments:8080/pay?x=1", "Host", "ledger");
        assertRoute(d, "team/payments/prod", "/pay?x=1");
        assertThat(d.forwardedHost()).isEqualTo("payments:8080");
    }

    @Test
    void routeHeadersStillWinOverTheAuthority() {
        Destination d = get(router(), "http://payments/x", "Host", "payments", "x-tm-service", "ledger",
                "x-tm-env", "staging", "x-tm-version", "v2");
        assertRoute(d, "team/ledger/staging/v2", "/x");
        assertRoute(get(router(), "/x", "Host", "127.0.0.1:15001", "x-tm-service", "ledger"), "team/ledger/prod", "/x");
    }

    @Test
    void anotherTenantIsForbiddenWhateverTheRequestNames() {
        RequestRouter router = router();
        assertRefused(get(router, "/x", "Host", "payments", "x-tm-tenant", "team-b"), 403, "tenant_forbidden");
        assertRefused(get(router, "http://payments/x", "Host", "payments", "x-tm-tenant", "team-b"), 403, "tenant_forbidden");
        assertRefused(get(router, "/x", "Host", "a", "x-tm-tenant", "team-b", "x-tm-service", "ledger"), 403, "tenant_forbidden");
        assertRefused(get(router, "http://api.example.com/", "Host", "x", "x-tm-tenant", "team-b"), 403, "tenant_forbidden");
        assertRefused(decide(router, request(HttpMethod.CONNECT, "api.example.com:443", "Host", "api.example.com:443",
                "x-tm-tenant", "team-b")), 403, "tenant_forbidden");
        assertRefused(get(router, "/x", "Host", "a", "x-tm-tenant", "Team_B!"), 400, "invalid_route_header");
        assertRoute(get(router, "/x", "Host", "payments", "x-tm-tenant", "team"), "team/payments/prod", "/x");
        assertThat(get(router, "/x", "Host", "a", "x-tm-tenant", "team-b").message()).contains("team (TM_TENANT)");
    }

    @Test
    void allowedTenantsWidenTheBindingDeliberately() {
        RequestRouter gateway = router("TM_ALLOWED_TENANTS", "team-b, team-c");
        assertRoute(get(gateway, "/x", "Host", "payments", "x-tm-tenant", "team-b"), "team-b/payments/prod", "/x");
        assertRoute(get(gateway, "/x", "Host", "payments"), "team/payments/prod", "/x");
        assertRefused(get(gateway, "/x", "Host", "payments", "x-tm-tenant", "team-d"), 403, "tenant_forbidden");
        RequestRouter any = router("TM_ALLOWED_TENANTS", "*");
        assertRoute(get(any, "/x", "Host", "payments", "x-tm-tenant", "team-d"), "team-d/payments/prod", "/x");
    }

    @Test
    void aSidecarWithoutATenantRefusesToStartUnlessAllowedTenantsAreSet() {
        assertThatThrownBy(() -> ProxyConfig.fromEnv(Map.of("TM_ENV", "prod")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("TM_TENANT: not set").hasMessageContaining("TM_ALLOWED_TENANTS");
        RequestRouter gateway = router("TM_TENANT", "", "TM_ALLOWED_TENANTS", "team-b");
        assertRefused(get(gateway, "/x", "Host", "payments"), 400, "missing_route_header");
        assertRoute(get(gateway, "/x", "Host", "payments", "x-tm-tenant", "team-b"), "team-b/payments/prod", "/x");
        assertThatThrownBy(() -> router("TM_ALLOWED_TENANTS", "team-b,,x")).hasMessageContaining("TM_ALLOWED_TENANTS");
    }

    @Test
    void outsideHostsPassThroughUnderAllowAny() {
        RequestRouter router = router();
        Destination d = get(router, "http://api.example.com/v1?q", "Host", "api.example.com");
        assertThat(d.kind()).isEqualTo(Destination.Kind.PASSTHROUGH);
        assertThat(d.outside().hostHeader()).isEqualTo("api.example.com");
        assertThat(d.outside().port()).isEqualTo(80);
        assertThat(d.originForm()).isEqualTo("/v1?q");
        assertThat(d.tenant()).isEqualTo("team");
        Destination address = get(router, "/x", "Host", "10.1.2.3:8080");
        assertThat(address.kind()).isEqualTo(Destination.Kind.PASSTHROUGH);
        assertThat(address.outside().toString()).isEqualTo("http://10.1.2.3:8080");
        Destination otherNamespace = get(router, "/x", "Host", "payments.team-b.svc.cluster.local");
        assertThat(otherNamespace.outside().hostHeader()).isEqualTo("payments.team-b.svc.cluster.local");
        assertThat(get(router, "https://api.example.com/", "Host", "x").outside().https()).isTrue();
        assertThat(get(router, "/", "Host", "localhost:8080").kind()).isEqualTo(Destination.Kind.PASSTHROUGH);
    }

    @Test
    void registryOnlyRefusesOutsideHostsButNotRouteNames() {
        RequestRouter router = router("TM_OUTBOUND_POLICY", "registry-only");
        assertRefused(get(router, "http://api.example.com/", "Host", "api.example.com"), 403, "outbound_forbidden");
        assertRefused(get(router, "/", "Host", "10.1.2.3"), 403, "outbound_forbidden");
        assertRefused(decide(router, request(HttpMethod.CONNECT, "api.example.com:443", "Host", "x")), 403,
                "outbound_forbidden");
        assertRoute(get(router, "/x", "Host", "payments"), "team/payments/prod", "/x");
        assertThatThrownBy(() -> router("TM_OUTBOUND_POLICY", "deny")).hasMessageContaining("allow-any or registry-only");
    }

    @Test
    void connectTunnelsOutsideHostsAndRefusesRouteNames() {
        RequestRouter router = router();
        Destination tunnel = decide(router, request(HttpMethod.CONNECT, "api.example.com:443", "Host", "api.example.com:443"));
        assertThat(tunnel.kind()).isEqualTo(Destination.Kind.TUNNEL);
        assertThat(tunnel.outside().host()).isEqualTo("api.example.com");
        assertThat(tunnel.outside().port()).isEqualTo(443);
        Destination route = decide(router, request(HttpMethod.CONNECT, "payments:443", "Host", "payments:443"));
        assertRefused(route, 400, "connect_to_route");
        assertThat(route.message()).contains("http://payments/");
        assertRefused(decide(router, request(HttpMethod.CONNECT, "api.example.com", "Host", "x")), 400, "invalid_host");
    }

    @Test
    void connectGoesOnlyToTheAllowedPorts() {
        Destination other = decide(router(), request(HttpMethod.CONNECT, "api.example.com:8443", "Host", "x"));
        assertRefused(other, 403, "outbound_forbidden");
        assertThat(other.message()).contains("TM_CONNECT_PORTS");
        RequestRouter wider = router("TM_CONNECT_PORTS", "443, 8443");
        assertThat(decide(wider, request(HttpMethod.CONNECT, "api.example.com:8443", "Host", "x")).kind())
                .isEqualTo(Destination.Kind.TUNNEL);
        RequestRouter any = router("TM_CONNECT_PORTS", "*");
        assertThat(decide(any, request(HttpMethod.CONNECT, "api.example.com:25", "Host", "x")).kind())
                .isEqualTo(Destination.Kind.TUNNEL);
        assertThatThrownBy(() -> router("TM_CONNECT_PORTS", "443,http")).hasMessageContaining("TM_CONNECT_PORTS");
    }

    @Test
    void aRequestCarryingOurOwnViaHasComeRoundInALoop() {
        RequestRouter router = router();
        String ours = router.via(HttpVersion.HTTP_1_1);
        assertThat(ours).matches("1\\.1 tm-[0-9a-f]{8}");
        assertRefused(get(router, "/x", "Host", "api.example.com", "Via", "1.0 squid, " + ours), 508, "loop_detected");
        assertRefused(get(router, "/x", "Host", "payments", "Via", "1.1 other", "Via", ours), 508, "loop_detected");
        assertRoute(get(router, "/x", "Host", "payments", "Via", router().via(HttpVersion.HTTP_1_1)),
                "team/payments/prod", "/x"); // another sidecar's
    }

    @Test
    void aSecondTenantHeaderIsRefused() {
        assertRefused(get(router(), "/x", "Host", "payments", "x-tm-tenant", "team", "x-tm-tenant", "team-b"),
                400, "invalid_route_header");
    }

    @Test
    void theSidecarItselfIsNoServiceNorAnOutsideHost() {
        RequestRouter router = router();
        for (String self : new String[] {"127.0.0.1:15001", "localhost:15001", "[::1]:15001"}) {
            Destination d = get(router, "/x", "Host", self);
            assertRefused(d, 400, "missing_route_header");
            assertThat(d.message()).contains("this sidecar");
        }
        Destination connect = decide(router, request(HttpMethod.CONNECT, "127.0.0.1:15001", "Host", "127.0.0.1:15001"));
        assertRefused(connect, 400, "missing_route_header");
        assertThat(connect.message()).contains("CONNECT 127.0.0.1:15001 is this sidecar itself");
    }

    @Test
    void malformedAuthoritiesAreRefusedWithACodeNamingTheProblem() {
        RequestRouter router = router();
        assertRefused(get(router, "/x", "Host", "pay ments"), 400, "invalid_host");
        assertRefused(get(router, "/x", "Host", "payments", "Host", "ledger"), 400, "invalid_host");
        assertThat(get(router, "/x", "Host", "a", "Host", "b").message()).contains("2 Host headers");
        assertRefused(get(router, "/x", "Host", ""), 400, "invalid_host");
        assertRefused(get(router, "/x"), 400, "invalid_host");
        assertThat(get(router, "/x").message()).contains("no Host header");
        assertRefused(get(router, "http:///x"), 400, "invalid_host");
        assertRefused(get(router, "http://payments/x", "Host", "payments", "Host", "payments"), 400, "invalid_host");
        assertRefused(get(router, "http://payments/x"), 400, "invalid_host"); // HTTP/1.1 needs Host even then
        HttpRequest http10 = new DefaultHttpRequest(HttpVersion.HTTP_1_0, HttpMethod.GET, "/x");
        assertRefused(decide(router, http10), 400, "missing_route_header");
    }

    @Test
    void hostSuffixesAreConfigurable() {
        RequestRouter router = router("TM_HOST_SUFFIXES", ".mesh, .internal.example");
        assertRoute(get(router, "/", "Host", "payments.mesh"), "team/payments/prod", "/");
        assertRoute(get(router, "/", "Host", "payments.internal.example"), "team/payments/prod", "/");
        assertThat(get(router, "/", "Host", "payments.svc").kind()).isEqualTo(Destination.Kind.PASSTHROUGH);
        RequestRouter none = router("TM_HOST_SUFFIXES", "none");
        assertThat(get(none, "/", "Host", "payments.svc.cluster.local").kind()).isEqualTo(Destination.Kind.PASSTHROUGH);
        assertThatThrownBy(() -> router("TM_HOST_SUFFIXES", "svc")).hasMessageContaining("TM_HOST_SUFFIXES");
    }
}
