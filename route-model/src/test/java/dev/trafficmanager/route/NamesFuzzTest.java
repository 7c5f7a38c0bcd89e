package dev.trafficmanager.route;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/**
 * Names and route keys against an independent statement of the rule, on arbitrary text read as a
 * key ({@code tenant/service/env/version}): each part is a valid name exactly when the regular
 * expression says so, an invalid one is refused with {@code invalid_name} (never another
 * exception), and the text parses as a key exactly when it has four parts that are all valid.
 */
class NamesFuzzTest {
    private static final Pattern RULE = Pattern.compile("[a-z0-9]+([-._][a-z0-9]+)*");

    @FuzzTest(maxDuration = "15s")
    void namesAndKeysFollowTheRule(byte[] bytes) {
        String text = new String(bytes, StandardCharsets.UTF_8);
        String[] parts = text.split("/", -1);
        boolean allValid = true;
        for (String name : parts) {
            boolean valid = name.length() <= Names.MAX_LENGTH && RULE.matcher(name).matches();
            allValid &= valid;
            assertThat(Names.isValid(name)).as("isValid(%s)", name).isEqualTo(valid);
            if (valid) {
                assertThat(Names.require("name", name)).isEqualTo(name);
            } else {
                assertThatThrownBy(() -> Names.require("name", name)).isInstanceOfSatisfying(InvalidRouteException.class,
                        e -> assertThat(e.code()).isEqualTo("invalid_name"));
            }
        }
        if (parts.length == 4 && allValid) {
            RouteKey key = RouteKey.parse(text);
            assertThat(key.toString()).isEqualTo(text);
            assertThat(RouteKey.parse(new String(key.toBytes(), StandardCharsets.UTF_8))).isEqualTo(key);
        } else {
            assertThatThrownBy(() -> RouteKey.parse(text)).isInstanceOf(InvalidRouteException.class);
        }
    }
}
