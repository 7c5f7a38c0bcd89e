package dev.trafficmanager.proxy.routing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trafficmanager.proxy.upstream.UpstreamTarget;
import org.junit.jupiter.api.Test;

class ForwardingTest {

    @Test
    void theUpstreamsBasePathPrefixesTheRequestPath() {
        assertThat(UpstreamTarget.parse("http://svc:8080/api/").requestUri("/x?y=1")).isEqualTo("/api/x?y=1");
        assertThat(UpstreamTarget.parse("http://svc:8080/api").requestUri("/")).isEqualTo("/api/");
        assertThat(UpstreamTarget.parse("http://svc").requestUri("/x")).isEqualTo("/x");
        UpstreamTarget tls = UpstreamTarget.parse("https://svc.example:443/v1");
        assertThat(tls.https()).isTrue();
        assertThat(tls.port()).isEqualTo(443);
        assertThat(tls.hostHeader()).isEqualTo("svc.example");
        UpstreamTarget v6 = UpstreamTarget.parse("http://[::1]:9000/");
        assertThat(v6.host()).isEqualTo("::1");
        assertThat(v6.hostHeader()).isEqualTo("[::1]:9000");
    }

    @Test
    void anOutsideHostKeepsItsAuthorityAsHostAndHasNoBasePath() {
        UpstreamTarget plain = UpstreamTarget.outside(false, "api.example.com", 80);
        assertThat(plain.hostHeader()).isEqualTo("api.example.com");
        assertThat(plain.requestUri("/x?y")).isEqualTo("/x?y");
        assertThat(UpstreamTarget.outside(false, "api.example.com", 8080).hostHeader()).isEqualTo("api.example.com:8080");
        UpstreamTarget v6 = UpstreamTarget.outside(true, "[fd00::1]", 443);
        assertThat(v6.host()).isEqualTo("fd00::1");
        assertThat(v6.hostHeader()).isEqualTo("[fd00::1]");
        assertThat(v6.https()).isTrue();
    }
}
