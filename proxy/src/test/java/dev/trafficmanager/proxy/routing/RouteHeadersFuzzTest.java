package dev.trafficmanager.proxy.routing;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.trafficmanager.proxy.ProxyConfig;
import dev.trafficmanager.proxy.lookup.RouteKeyProbe;
import dev.trafficmanager.route.Names;
import dev.trafficmanager.route.RouteKey;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;

/**
 * Route-header resolution on arbitrary header values, present or absent, with and without
 * defaults: it names a key exactly when the four values (or their defaults) are valid names, that
 * key is the one the values spell, and otherwise it answers missing or invalid with a message that
 * is safe to put in a JSON error; it never throws.
 */
class RouteHeadersFuzzTest {
    private static final ProxyConfig.RouteHeaderNames NAMES =
            new ProxyConfig.RouteHeaderNames("x-tm-tenant", "x-tm-service", "x-tm-env", "x-tm-version");
    private static final RouteHeaders WITH_DEFAULTS =
            new RouteHeaders(NAMES, new ProxyConfig.RouteDefaults("team", "prod", "v1"));
    private static final RouteHeaders WITHOUT_DEFAULTS =
            new RouteHeaders(NAMES, new ProxyConfig.RouteDefaults(null, null, null));

    @FuzzTest(maxDuration = "15s")
    void aKeyExactlyWhenTheValuesAreValid(FuzzedDataProvider data) {
        boolean defaults = data.consumeBoolean();
        String[] values = new String[4];
        HttpHeaders headers = new DefaultHttpHeaders(false); // as the proxy's decoder hands them over
        String[] names = {NAMES.tenant(), NAMES.service(), NAMES.env(), NAMES.version()};
        for (int i = 0; i < values.length; i++) {
            if (data.consumeBoolean()) {
                values[i] = data.consumeString(100);
                headers.add(names[i], values[i]);
            }
        }
        RouteKeyProbe probe = new RouteKeyProbe();
        RouteHeaders.Problem problem = (defaults ? WITH_DEFAULTS : WITHOUT_DEFAULTS).read(headers, probe);

        String[] effective = values.clone();
        if (defaults) {
            effective[0] = effective[0] == null ? "team" : effective[0];
            effective[2] = effective[2] == null ? "prod" : effective[2];
            effective[3] = effective[3] == null ? "v1" : effective[3];
        }
        boolean valid = true;
        for (String value : effective) {
            valid &= value != null && Names.isValid(value);
        }
        if (valid) {
            assertThat(problem).isNull();
            assertThat(RouteKey.parse(probe.toString())).isEqualTo(new RouteKey(effective[0], effective[1], effective[2], effective[3]));
        } else {
            assertThat(problem).isNotNull();
            assertThat(problem.code()).isIn("missing_route_header", "invalid_route_header");
            String json = "{\"message\":" + JsonText.quote(problem.message()) + "}";
            assertThat(json.chars().allMatch(c -> c >= 0x20)).as("no control character in %s", json).isTrue();
        }
    }
}
