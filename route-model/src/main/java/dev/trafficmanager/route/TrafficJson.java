package dev.trafficmanager.route;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The JSON of a route's options and of a split, one shape for the control API's bodies, the rows it
 * stores (JSONB) and the sidecar's reads of them: {@code endpoints}, {@code timeoutMs},
 * {@code retries}; {@code weights}, {@code stickyHeader}, {@code stickyCookie}. Every type or value
 * out of place is an {@link InvalidRouteException} naming the field.
 */
public final class TrafficJson {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final Set<String> ENDPOINT_FIELDS = Set.of("url", "weight");
    private static final Set<String> RETRY_FIELDS = Set.of("attempts", "on");

    private TrafficJson() {
    }

    /** The options in {@code node}'s {@code endpoints}, {@code timeoutMs} and {@code retries} fields (others are ignored). */
    public static RouteOptions options(JsonNode node) {
        List<Endpoint> endpoints = new ArrayList<>();
        JsonNode list = node.get("endpoints");
        if (list != null && !list.isNull()) {
            if (!list.isArray() || list.isEmpty()) {
                throw invalid("invalid_endpoint", "endpoints: " + kind(list) + " (expected: a non-empty array of {\"url\", \"weight\"})");
            }
            int index = 0;
            for (JsonNode item : list) {
                String field = "endpoints[" + index++ + "]";
                if (!item.isObject()) {
                    throw invalid("invalid_endpoint", field + ": " + kind(item) + " (expected: an object with url and weight)");
                }
                unknownFields(item, field, ENDPOINT_FIELDS, "invalid_endpoint");
                JsonNode url = item.get("url");
                if (url == null || !url.isTextual()) {
                    throw invalid("invalid_endpoint", field + ".url: " + kind(url) + " (expected: a string)");
                }
                int weight = item.has("weight") ? integer(item.get("weight"), field + ".weight", "invalid_endpoint") : 1;
                endpoints.add(new Endpoint(url.asText(), weight));
            }
        }
        int timeoutMs = 0;
        JsonNode timeout = node.get("timeoutMs");
        if (timeout != null && !timeout.isNull()) {
            timeoutMs = integer(timeout, "timeoutMs", "invalid_timeout");
            if (timeoutMs < 1) {
                throw invalid("invalid_timeout", "timeoutMs: " + timeoutMs + " (expected: 1 to " + RouteOptions.MAX_TIMEOUT_MS + ")");
            }
        }
        return new RouteOptions(endpoints, timeoutMs, retries(node.get("retries")));
    }

    private static RouteRetries retries(JsonNode node) {
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isObject()) {
            throw invalid("invalid_retries", "retries: " + kind(node) + " (expected: {\"attempts\": N, \"on\": [...]})");
        }
        unknownFields(node, "retries", RETRY_FIELDS, "invalid_retries");
        JsonNode attempts = node.get("attempts");
        if (attempts == null) {
            throw invalid("invalid_retries", "retries.attempts: missing (expected: 1 to " + RouteRetries.MAX_ATTEMPTS + ")");
        }
        JsonNode on = node.get("on");
        if (on == null || !on.isArray()) {
            throw invalid("invalid_retries", "retries.on: " + kind(on)
                    + " (expected: an array of connect-failure, reset, gateway-error)");
        }
        Set<RetryOn> conditions = new LinkedHashSet<>();
        for (JsonNode item : on) {
            if (!item.isTextual()) {
                throw invalid("invalid_retries", "retries.on: " + kind(item) + " in the array (expected: strings)");
            }
            conditions.add(RetryOn.parse(item.asText()));
        }
        return new RouteRetries(integer(attempts, "retries.attempts", "invalid_retries"), conditions);
    }

    /** The options as the JSON the control API stores and shows; null when all are defaults. */
    public static ObjectNode toJson(RouteOptions options) {
        if (options.isDefault()) {
            return null;
        }
        ObjectNode node = MAPPER.createObjectNode();
        if (!options.endpoints().isEmpty()) {
            ArrayNode list = node.putArray("endpoints");
            options.endpoints().forEach(e -> list.addObject().put("url", e.url()).put("weight", e.weight()));
        }
        if (options.timeoutMs() > 0) {
            node.put("timeoutMs", options.timeoutMs());
        }
        if (options.retries() != null) {
            ObjectNode retries = node.putObject("retries").put("attempts", options.retries().attempts());
            ArrayNode on = retries.putArray("on");
            options.retries().on().forEach(condition -> on.add(condition.wireName()));
        }
        return node;
    }

    /** The split in {@code node}'s {@code weights}, {@code stickyHeader} and {@code stickyCookie} fields. */
    public static Split split(JsonNode node) {
        JsonNode weights = node.get("weights");
        if (weights == null || !weights.isObject()) {
            throw invalid("invalid_split", "weights: " + kind(weights) + " (expected: an object of version: weight)");
        }
        Map<String, Integer> parsed = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = weights.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> weight = it.next();
            parsed.put(weight.getKey(), integer(weight.getValue(), "weights." + weight.getKey(), "invalid_split"));
        }
        return new Split(parsed, text(node, "stickyHeader"), text(node, "stickyCookie"));
    }

    /** Stored options ({@code options::text} of a row), or {@link RouteOptions#NONE} for null. */
    public static RouteOptions options(String json) {
        return json == null ? RouteOptions.NONE : options(parse(json));
    }

    /** The options as stored JSON text: null when all are defaults. */
    public static String optionsText(RouteOptions options) {
        ObjectNode json = toJson(options);
        return json == null ? null : json.toString();
    }

    /** A stored split: its weights column's JSON text and its sticky columns (either may be null). */
    public static Split split(String weightsJson, String stickyHeader, String stickyCookie) {
        ObjectNode node = MAPPER.createObjectNode();
        node.set("weights", parse(weightsJson));
        node.put("stickyHeader", stickyHeader);
        node.put("stickyCookie", stickyCookie);
        return split(node);
    }

    /** The split's weights as a JSON object, by version. */
    public static ObjectNode weights(Split split) {
        ObjectNode weights = MAPPER.createObjectNode();
        split.weights().forEach(weights::put);
        return weights;
    }

    /** The split as JSON: {@code weights}, and the sticky names that are set. */
    public static ObjectNode toJson(Split split) {
        ObjectNode node = MAPPER.createObjectNode();
        node.set("weights", weights(split));
        if (split.stickyHeader() != null) {
            node.put("stickyHeader", split.stickyHeader());
        }
        if (split.stickyCookie() != null) {
            node.put("stickyCookie", split.stickyCookie());
        }
        return node;
    }

    /** Parses stored JSON text (a JSONB column read as text); null for null. */
    public static JsonNode parse(String text) {
        if (text == null) {
            return null;
        }
        try {
            return MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            throw invalid("invalid_json", "stored JSON does not parse: " + e.getOriginalMessage());
        }
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isTextual()) {
            throw invalid("invalid_split", field + ": " + kind(value) + " (expected: a string)");
        }
        return value.asText();
    }

    private static int integer(JsonNode value, String field, String code) {
        if (value == null || !value.isIntegralNumber() || !value.canConvertToInt()) {
            throw invalid(code, field + ": " + (value == null ? "missing" : value.isNumber() ? value.asText() : kind(value))
                    + " (expected: an integer)");
        }
        return value.intValue();
    }

    private static void unknownFields(JsonNode node, String field, Set<String> known, String code) {
        for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!known.contains(name)) {
                throw invalid(code, field + ": unknown field \"" + name + "\" (expected only: " + String.join(", ", known) + ")");
            }
        }
    }

    private static String kind(JsonNode node) {
        return node == null ? "missing" : node.getNodeType().name().toLowerCase(Locale.ROOT);
    }

    private static InvalidRouteException invalid(String code, String message) {
        return new InvalidRouteException(code, message);
    }
}
