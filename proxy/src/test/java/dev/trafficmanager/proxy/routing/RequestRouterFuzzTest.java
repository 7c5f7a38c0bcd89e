package dev.trafficmanager.proxy.routing;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.trafficmanager.proxy.ProxyConfig;
import dev.trafficmanager.route.RouteKey;
import dev.trafficmanager.route.SplitKey;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import java.util.Map;

/**
 * Routing by authority on arbitrary request targets, Host headers and tenant headers: a request is
 * routed to a key of the sidecar's own tenant, sent to an outside host whose name and port are
 * safe to put on the wire, or refused with one of the codes the README lists and a message safe
 * for JSON; it never throws.
 */
class RequestRouterFuzzTest {
    private static final RequestRouter ROUTER;

    static {
        ProxyConfig config = ProxyConfig.fromEnv(Map.of("TM_TENANT", "team", "TM_ENV", "prod", "TM_DEFAULT_VERSION", "v1"));
        ROUTER = new RequestRouter(config.headers(), config.defaults(), config.tenants(), config.outbound());
    }

    @FuzzTest(maxDuration = "15s")
    void everyRequestIsRoutedPassedOnOrRefusedCleanly(FuzzedDataProvider data) {
        boolean connect = data.consumeBoolean();
        String tenant = data.consumeBoolean() ? data.consumeString(30) : null;
        String service = data.consumeBoolean() ? data.consumeString(30) : null;
        String host = data.consumeBoolean() ? data.consumeString(120) : null;
        String uri = data.consumeRemainingAsString();
        HttpRequest request;
        try {
            request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, connect ? HttpMethod.CONNECT : HttpMethod.GET,
                    uri, new DefaultHttpHeaders(false)); // headers as the proxy's decoder hands them over
        } catch (IllegalArgumentException e) {
            return; // a request line Netty refuses: the decoder answers it with 400 before routing
        }
        for (String[] header : new String[][] {{"host", host}, {"x-tm-tenant", tenant}, {"x-tm-service", service}}) {
            if (header[1] != null) {
                request.headers().add(header[0], header[1]);
            }
        }
        Destination d = new Destination();
        ROUTER.decide(request, 15001, d);
        switch (d.kind()) {
            case ROUTE -> {
                // Without a version header the key is the split key (tenant/service/env): the split, else the default, picks it.
                String tenantOfKey = d.probe.isSplitKey() ? SplitKey.parse(d.probe.toString()).tenant()
                        : RouteKey.parse(d.probe.toString()).tenant();
                assertThat(tenantOfKey).isEqualTo("team");
                assertThat(d.originForm()).startsWith("/").doesNotStartWith("//");
                String path = d.originForm().split("\\?", 2)[0];
                assertThat(("/" + path + "/").replaceAll("(?i)%2e", ".")).as("no dot segment left")
                        .doesNotContain("/../").doesNotContain("/./");
                assertThat(path.toLowerCase()).doesNotContain("%2f").doesNotContain("%5c").doesNotContain("\\");
            }
            case PASSTHROUGH, TUNNEL -> {
                assertThat(tenant == null || tenant.equals("team")).isTrue();
                assertThat(d.outside().port()).isBetween(1, 65535);
                assertThat(d.outside().hostHeader()).matches("[a-z0-9._\\-\\[\\]:]+");
                assertThat(d.originForm() == null || d.originForm().startsWith("/")).isTrue();
            }
            default -> {
                assertThat(d.code()).isIn("bad_request", "invalid_host", "missing_route_header", "invalid_route_header",
                        "tenant_forbidden", "connect_to_route", "outbound_forbidden", "invalid_path");
                assertThat(d.status().code()).isIn(400, 403);
                String json = "{\"message\":" + JsonText.quote(d.message()) + "}";
                assertThat(json.chars().allMatch(c -> c >= 0x20 && c < 0x7f)).as("printable ASCII: %s", json).isTrue();
            }
        }
    }
}
