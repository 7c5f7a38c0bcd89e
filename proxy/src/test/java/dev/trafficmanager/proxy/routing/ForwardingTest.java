package dev.trafficmanager.proxy.routing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trafficmanager.proxy.upstream.UpstreamTarget;
import org.junit.jupiter.api.Test;

class ForwardingTest {

    @Test
    void originFormKeepsPathAndQueryAndStripsAnAbsoluteFormsAuthority() {
        assertThat(Forwarding.originForm("/a/b?c=d")).isEqualTo("/a/b?c=d");
        assertThat(Forwarding.originForm("http://app:80/a?x")).isEqualTo("/a?x");
        assertThat(Forwarding.originForm("HTTP://app")).isEqualTo("/");
        assertThat(Forwarding.originForm("http://app?x=1")).isEqualTo("/?x=1");
        assertThat(Forwarding.originForm("*")).isNull();
        assertThat(Forwarding.originForm("ftp://x/y")).isNull();
        assertThat(Forwarding.originForm("")).isNull();
    }

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
}
