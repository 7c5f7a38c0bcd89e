package dev.trafficmanager.controlapi.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.Set;

/**
 * The control API's reading of request bodies on arbitrary text: a body is either refused with
 * 400 {@code invalid_json} (never another exception, which would be a 500) or is an object with
 * exactly the required string fields.
 */
class JsonBodyFuzzTest {
    private static final Json JSON = new Json();

    @FuzzTest(maxDuration = "15s")
    void aBodyIsRefusedWith400OrHasExactlyTheRequiredFields(byte[] bytes) {
        String body = new String(bytes, StandardCharsets.UTF_8); // as the API decodes a request body
        ObjectNode node;
        try {
            node = JSON.readObject(body, Set.of("url"));
        } catch (ApiException e) {
            assertThat(e.status().code()).isEqualTo(400);
            assertThat(e.code()).isEqualTo("invalid_json");
            assertThat(e.getMessage()).isNotBlank();
            return;
        }
        assertThat(node.size()).isEqualTo(1);
        assertThat(node.get("url").isTextual()).isTrue();
    }
}
