package dev.trafficmanager.route;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class UpstreamUrlTest {

    @ParameterizedTest
    @ValueSource(strings = {"http://payments:8080", "https://payments.svc.cluster.local/base/path",
            "http://127.0.0.1:9000/", "http://[::1]:8080/api", "HTTPS://Example.COM", "http://xn--bcher-kva.example"})
    void acceptsAbsoluteHttpAndHttpsUrls(String url) {
        assertThat(UpstreamUrl.require(url)).isEqualTo(url);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "''                              | absolute http or https",
            "ftp://files.example/            | scheme http or https",
            "file:///etc/passwd              | scheme http or https",
            "payments:8080                   | scheme http or https",
            "/relative/path                  | scheme http or https",
            "http://user:secret@host/        | no user info",
            "http://user@host/               | no user info",
            "http:///no-host                 | host",
            "http://                         | well-formed",
            "http://host/#frag               | no fragment",
            "http://host/?a=b                | no query",
            "'http://host/a b'               | printable ASCII",
            "'http://exämple.com/'           | printable ASCII",
            "'http://host:0/'                | port",
            "'http://host:70000/'            | port",
    })
    void refusesWithAReasonForEachBrokenRule(String url, String expected) {
        assertThatThrownBy(() -> UpstreamUrl.require(url))
                .isInstanceOfSatisfying(InvalidRouteException.class, e -> {
                    assertThat(e.code()).isEqualTo("invalid_url");
                    assertThat(e.getMessage()).contains(expected);
                });
    }

    @ParameterizedTest
    @ValueSource(ints = {2048, 2049})
    void limitsLength(int length) {
        String base = "http://h/";
        String url = base + "a".repeat(length - base.length());
        if (length <= UpstreamUrl.MAX_LENGTH) {
            assertThat(UpstreamUrl.require(url)).hasSize(length);
        } else {
            assertThatThrownBy(() -> UpstreamUrl.require(url)).hasMessageContaining("at most 2048");
        }
    }
}
