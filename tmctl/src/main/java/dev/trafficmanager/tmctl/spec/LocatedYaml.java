package dev.trafficmanager.tmctl.spec;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * A YAML document read into a JSON tree that remembers where things were: the line of every object
 * and array, and of every field of an object, so a file's mistakes can name their line. A key given
 * twice in one object is an error, as is a second document.
 */
public final class LocatedYaml {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final YAMLFactory FACTORY = YAMLFactory.builder()
            .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    private final JsonNode root;
    private final Map<JsonNode, Integer> lines = new IdentityHashMap<>();
    private final Map<JsonNode, Map<String, Integer>> fieldLines = new IdentityHashMap<>();
    private final Map<JsonNode, Map<String, String>> fieldTexts = new IdentityHashMap<>();

    private LocatedYaml(String text) throws IOException {
        try (JsonParser parser = FACTORY.createParser(text)) {
            JsonToken first = parser.nextToken();
            root = first == null ? NODES.nullNode() : read(parser);
            if (parser.nextToken() != null) {
                throw new SpecError(line(parser), "a second document (expected: one document)");
            }
        }
    }

    /** Parses {@code text}; a syntax error is a {@link SpecError} with its line. */
    public static LocatedYaml parse(String text) {
        try {
            return new LocatedYaml(text);
        } catch (JsonParseException e) {
            int line = e.getLocation() == null ? 0 : e.getLocation().getLineNr();
            throw new SpecError(line, "not valid YAML: " + brief(e.getOriginalMessage()));
        } catch (IOException e) {
            throw new SpecError(0, "not valid YAML: " + e.getMessage());
        }
    }

    /** SnakeYAML's message without its excerpt of the input and its position (the line is given apart). */
    private static String brief(String message) {
        return message.lines().map(String::strip)
                .filter(line -> !line.isEmpty() && !line.startsWith("^") && !line.startsWith("in 'reader'"))
                .map(line -> line.replaceAll("\\s*in 'reader', line \\d+, column \\d+:?", ""))
                .collect(java.util.stream.Collectors.joining("; "));
    }

    public JsonNode root() {
        return root;
    }

    /** The line where {@code node} (an object or array) starts; 0 if unknown. */
    public int line(JsonNode node) {
        return lines.getOrDefault(node, 0);
    }

    /** The line of {@code object}'s field {@code name}, else the object's own line. */
    public int line(JsonNode object, String name) {
        Integer line = fieldLines.getOrDefault(object, Map.of()).get(name);
        return line != null ? line : line(object);
    }

    /**
     * The text of {@code object}'s scalar field {@code name} as written ({@code 007}, {@code 1.0},
     * {@code 2}), whatever type YAML gave it; null when it is no scalar.
     */
    public String text(JsonNode object, String name) {
        return fieldTexts.getOrDefault(object, Map.of()).get(name);
    }

    private JsonNode read(JsonParser parser) throws IOException {
        int line = line(parser);
        switch (parser.currentToken()) {
            case START_OBJECT -> {
                ObjectNode object = NODES.objectNode();
                Map<String, Integer> fields = new HashMap<>();
                Map<String, String> texts = new HashMap<>();
                while (parser.nextToken() == JsonToken.FIELD_NAME) {
                    String name = parser.currentName();
                    fields.put(name, line(parser));
                    JsonToken value = parser.nextToken();
                    if (value.isScalarValue()) {
                        texts.put(name, parser.getText());
                    }
                    object.set(name, read(parser));
                }
                lines.put(object, line);
                fieldLines.put(object, fields);
                fieldTexts.put(object, texts);
                return object;
            }
            case START_ARRAY -> {
                ArrayNode array = NODES.arrayNode();
                while (parser.nextToken() != JsonToken.END_ARRAY) {
                    array.add(read(parser));
                }
                lines.put(array, line);
                return array;
            }
            case VALUE_STRING -> {
                return NODES.textNode(parser.getText());
            }
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> {
                return parser.currentToken() == JsonToken.VALUE_NUMBER_INT
                        ? NODES.numberNode(parser.getBigIntegerValue()) : NODES.numberNode(parser.getDecimalValue());
            }
            case VALUE_TRUE, VALUE_FALSE -> {
                return NODES.booleanNode(parser.getBooleanValue());
            }
            case VALUE_NULL -> {
                return NODES.nullNode();
            }
            default -> throw new SpecError(line, "unexpected " + parser.currentToken());
        }
    }

    private static int line(JsonParser parser) {
        return parser.currentTokenLocation().getLineNr();
    }
}
