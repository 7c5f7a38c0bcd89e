package dev.trafficmanager.proxy.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class RequestPathTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "/greet?name=ada|/greet?name=ada",
        "/|/",
        "/a/./b|/a/b",
        "/a/b/../c|/a/c",
        "/a/%2e%2E/c|/c",
        "/a/.%2e/c?x=/../y|/c?x=/../y",
        "/a/..|/",
        "/a/b/..|/a/",
        "/a/.|/a/",
        "//evil.example/x|/evil.example/x",
        "///x|/x",
        "/a/..//x|/x",
        "/a//b|/a//b",
        "/.well-known/x|/.well-known/x",
        "/a/.../b|/a/.../b",
        "/a%20b/%41|/a%20b/%41",
        "/x?q=%2F..%5c|/x?q=%2F..%5c",
    })
    void dotSegmentsAreResolvedAndTheQueryPassesVerbatim(String in, String out) throws Exception {
        assertThat(RequestPath.normalize(in)).isEqualTo(out);
    }

    @ParameterizedTest
    @ValueSource(strings = {"/..", "/../admin", "/%2e%2e/admin", "/a/../../admin", "/..%2fadmin", "/a%2Fb",
        "/a%5cb", "/a\\b", "/%2E./x", "/./../x"})
    void escapesAndEncodedSeparatorsAreRefused(String in) {
        assertThatThrownBy(() -> RequestPath.normalize(in)).isInstanceOf(RequestPath.Invalid.class)
                .hasMessageStartingWith("path ");
    }

    @org.junit.jupiter.api.Test
    void aPathWithNothingToResolveIsReturnedAsIs() throws Exception {
        String plain = "/hello-v1/greet?name=ada";
        assertThat(RequestPath.normalize(plain)).isSameAs(plain);
    }
}
