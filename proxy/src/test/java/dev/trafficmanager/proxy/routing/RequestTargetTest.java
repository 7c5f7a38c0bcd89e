package dev.trafficmanager.proxy.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Request targets and authorities: what is routed by, what is refused, and with which code. */
class RequestTargetTest {

    @Test
    void originFormKeepsPathAndQueryAndTheAbsoluteFormLosesItsSchemeAndAuthority() throws Exception {
        assertThat(RequestTarget.parse("/a/b?c=d", false)).isEqualTo(new RequestTarget("/a/b?c=d", null, false));
        RequestTarget absolute = RequestTarget.parse("http://App:8080/a?x", false);
        assertThat(absolute.originForm()).isEqualTo("/a?x");
        assertThat(absolute.authority()).isEqualTo(new Authority("app", 8080));
        assertThat(absolute.https()).isFalse();
        assertThat(RequestTarget.parse("HTTP://app", false).originForm()).isEqualTo("/");
        assertThat(RequestTarget.parse("http://app?x=1", false).originForm()).isEqualTo("/?x=1");
        assertThat(RequestTarget.parse("http://app/p#frag", false).originForm()).isEqualTo("/p");
        assertThat(RequestTarget.parse("https://api.example.com/v1", false).https()).isTrue();
    }

    @Test
    void aConnectTargetIsAnAuthorityWithAPort() throws Exception {
        RequestTarget connect = RequestTarget.parse("api.example.com:443", true);
        assertThat(connect.originForm()).isNull();
        assertThat(connect.authority()).isEqualTo(new Authority("api.example.com", 443));
        assertThatThrownBy(() -> RequestTarget.parse("api.example.com", true))
                .isInstanceOfSatisfying(RequestTarget.Invalid.class, e -> assertThat(e.code).isEqualTo("invalid_host"))
                .hasMessageContaining("no port");
    }

    @Test
    void targetsThatAreNeitherFormAreBadRequests() {
        for (String uri : new String[] {"*", "ftp://x/y", "", "app/x"}) {
            assertThatThrownBy(() -> RequestTarget.parse(uri, false))
                    .isInstanceOfSatisfying(RequestTarget.Invalid.class, e -> assertThat(e.code).isEqualTo("bad_request"))
                    .hasMessageContaining("expected: /path or http://host/path");
        }
    }

    @Test
    void badAuthoritiesInTheTargetAreInvalidHosts() {
        assertThatThrownBy(() -> RequestTarget.parse("http:///x", false)).hasMessageContaining("empty authority");
        assertThatThrownBy(() -> RequestTarget.parse("http://user:pw@app/x", false)).hasMessageContaining("user info");
        assertThatThrownBy(() -> RequestTarget.parse("http://a..b/x", false)).hasMessageContaining("not a host name");
        assertThatThrownBy(() -> RequestTarget.parse("http://app:99999/", false)).hasMessageContaining("invalid port");
        assertThatThrownBy(() -> RequestTarget.parse("http://app:/", false)).hasMessageContaining("invalid port");
    }

    @Test
    void authoritiesAreNamesAddressesOrBracketedIpv6WithAnOptionalPort() {
        for (String valid : new String[] {"payments", "payments:8080", "payments.svc.cluster.local", "fqdn.example.",
                "10.0.0.1:80", "[::1]", "[fd00:ec2::254]:8443", "under_score", "UPPER"}) {
            assertThat(Authority.problem(valid, false)).as(valid).isNull();
        }
        for (String invalid : new String[] {"", "pay ments", "a/b", "a..b", ".a", "[::1", "[fe80::1%25eth0]", "a:b",
                "a:0", "a:65536", "a:123456", "ho\u00e9st", "a;b", "x".repeat(256)}) {
            assertThat(Authority.problem(invalid, false)).as(invalid).isNotNull();
        }
    }

    @Test
    void localAuthoritiesAndAddressesAreRecognised() {
        assertThat(Authority.parse("LOCALHOST:15001").local()).isTrue();
        assertThat(Authority.parse("127.0.0.1").local()).isTrue();
        assertThat(Authority.parse("[::1]:15001").local()).isTrue();
        assertThat(Authority.parse("payments").local()).isFalse();
        assertThat(Authority.parse("127.example.com").local()).isFalse();
        assertThat(Authority.parse("10.1.2.3").ipLiteral()).isTrue();
        assertThat(Authority.parse("[fd00::1]").ipLiteral()).isTrue();
        assertThat(Authority.parse("payments").ipLiteral()).isFalse();
        assertThat(Authority.parse("payments:8080").portOr(80)).isEqualTo(8080);
        assertThat(Authority.parse("payments").portOr(80)).isEqualTo(80);
    }
}
