package dev.trafficmanager.controlapi.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Set;
import org.junit.jupiter.api.Test;

class JsonTest {
    private final Json json = new Json();

    @Test
    void readsAnObjectWithExactlyTheRequiredStringFields() {
        assertThat(json.readObject("{\"url\":\"http://a:1\"}", Set.of("url")).get("url").asText()).isEqualTo("http://a:1");
    }

    @Test
    void explainsWhatIsWrong() {
        assertThatThrownBy(() -> json.readObject("{\"url\":1}", Set.of("url")))
                .hasMessage("body: field \"url\" is number (expected: a string)");
        assertThatThrownBy(() -> json.readObject("{\"uri\":\"x\"}", Set.of("url")))
                .hasMessage("body: unknown field \"uri\" (expected only: url)");
        assertThatThrownBy(() -> json.readObject("{}", Set.of("url")))
                .hasMessage("body: field \"url\" is missing (expected: a string)");
        assertThatThrownBy(() -> json.readObject("null", Set.of("url")))
                .hasMessageStartingWith("body: expected a JSON object");
        assertThatThrownBy(() -> json.readObject("{\"url\":\"a\"", Set.of("url")))
                .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.code()).isEqualTo("invalid_json"));
    }
}
