package dev.trafficmanager.route;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class NamesTest {

    @ParameterizedTest
    @ValueSource(strings = {"a", "0", "team-a", "payments", "v2", "v1.2.3", "eu_west-1", "a-b.c_d"})
    void acceptsLowercaseAlphanumericsWithInnerSeparators(String name) {
        assertThat(Names.isValid(name)).isTrue();
        assertThat(Names.require("service", name)).isEqualTo(name);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "Payments", "PAY", "paymënts", "пей", "a b", " a", "a ", "..", ".", "a..b",
            "-a", "a-", "_a", "a_", ".a", "a.", "a--b", "a/b", "a\\b", "a%2fb", "a:b", "a\tb", "a\u0000b"})
    void refusesEverythingElse(String name) {
        assertThat(Names.isValid(name)).isFalse();
        assertThatThrownBy(() -> Names.require("service", name))
                .isInstanceOfSatisfying(InvalidRouteException.class, e -> {
                    assertThat(e.code()).isEqualTo("invalid_name");
                    assertThat(e.getMessage()).startsWith("service: ").contains("expected: 1-63 chars");
                });
    }

    @Test
    void limitsLengthToSixtyThreeCharacters() {
        assertThat(Names.isValid("a".repeat(63))).isTrue();
        assertThat(Names.isValid("a".repeat(64))).isFalse();
        assertThat(Names.isValid(null)).isFalse();
    }

    @Test
    void routeKeyValidatesEveryComponentAndRoundTripsThroughItsText() {
        RouteKey key = new RouteKey("team-a", "payments", "prod", "v2");
        assertThat(key.toString()).isEqualTo("team-a/payments/prod/v2");
        assertThat(RouteKey.parse(key.toString())).isEqualTo(key);
        assertThatThrownBy(() -> new RouteKey("team-a", "payments", "Prod", "v2"))
                .hasMessageStartingWith("env: \"Prod\"");
        assertThatThrownBy(() -> RouteKey.parse("team-a/payments/prod"))
                .isInstanceOf(InvalidRouteException.class);
        assertThatThrownBy(() -> RouteKey.parse("team-a/payments/prod/v2/x"))
                .isInstanceOf(InvalidRouteException.class);
    }
}
