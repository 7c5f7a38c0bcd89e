package dev.trafficmanager.controlapi.http;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Iterator;
import java.util.Set;

/** The one JSON mapper of the API, and strict reading of request bodies. Thread-safe. */
public final class Json {
    private final ObjectMapper mapper = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    public byte[] write(Object value) {
        try {
            return mapper.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialize " + value.getClass().getSimpleName(), e);
        }
    }

    /**
     * Parses {@code body} as a JSON object that has exactly the {@code required} string fields and
     * nothing else, and returns it. Anything else is a 400 {@code invalid_json} saying what is wrong.
     */
    public ObjectNode readObject(String body, Set<String> required) {
        return readObject(body, required, Set.of());
    }

    /**
     * Parses {@code body} as a JSON object with no fields but {@code allowed} (of any type: the
     * caller checks them), and returns it; anything else is a 400 {@code invalid_json}.
     */
    public ObjectNode readFields(String body, Set<String> allowed) {
        return readObject(body, Set.of(), allowed, false);
    }

    /** The same with {@code optional} string fields allowed too. */
    public ObjectNode readObject(String body, Set<String> required, Set<String> optional) {
        return readObject(body, required, optional, true);
    }

    private ObjectNode readObject(String body, Set<String> required, Set<String> optional, boolean optionalStrings) {
        JsonNode node;
        try {
            node = body == null || body.isBlank() ? null : mapper.readTree(body);
        } catch (JsonProcessingException e) {
            throw ApiException.badRequest("invalid_json", "body is not valid JSON: " + e.getOriginalMessage());
        }
        if (node == null || !node.isObject()) {
            throw ApiException.badRequest("invalid_json", "body: expected a JSON object with "
                    + String.join(", ", required.isEmpty() ? optional : required));
        }
        for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!required.contains(name) && !optional.contains(name)) {
                throw ApiException.badRequest("invalid_json", "body: unknown field \"" + name
                        + "\" (expected only: " + String.join(", ", required)
                        + (optional.isEmpty() ? "" : (required.isEmpty() ? "" : ", and optionally ")
                        + String.join(", ", new java.util.TreeSet<>(optional))) + ")");
            }
        }
        for (String name : required) {
            JsonNode value = node.get(name);
            if (value == null || !value.isTextual()) {
                throw ApiException.badRequest("invalid_json", "body: field \"" + name + "\" "
                        + (value == null ? "is missing" : "is " + value.getNodeType().name().toLowerCase(java.util.Locale.ROOT))
                        + " (expected: a string)");
            }
        }
        for (String name : optionalStrings ? optional : Set.<String>of()) {
            JsonNode value = node.get(name);
            if (value != null && !value.isTextual()) {
                throw ApiException.badRequest("invalid_json", "body: field \"" + name + "\" is "
                        + value.getNodeType().name().toLowerCase(java.util.Locale.ROOT) + " (expected: a string)");
            }
        }
        return (ObjectNode) node;
    }
}
