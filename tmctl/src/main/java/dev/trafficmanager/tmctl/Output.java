package dev.trafficmanager.tmctl;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.util.StringQuotingChecker;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/** Prints answers as a table (for people), JSON or YAML (for scripts). */
public final class Output {
    public enum Format { table, json, yaml }

    /** One column of a table: its heading and how to read a cell from an item. */
    public record Column(String heading, Function<JsonNode, String> cell) {
        public static Column field(String heading, String field) {
            return new Column(heading, item -> text(item.get(field)));
        }
    }

    public static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    public static final ObjectMapper YAML = new ObjectMapper(YAMLFactory.builder()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
            .stringQuotingChecker(new NameQuoting()).build());

    /**
     * Quotes, besides what YAML needs, every string that starts like a number ({@code 2}, {@code 1.0},
     * {@code 0x1f}, {@code 1e5}, {@code 1_000}): a name such as version {@code "2"} stays a string for
     * every YAML reader, not only for tmctl's.
     */
    private static final class NameQuoting extends StringQuotingChecker.Default {
        private static final long serialVersionUID = 1L;

        @Override
        public boolean needToQuoteValue(String value) {
            char first = value.isEmpty() ? 'x' : value.charAt(0);
            return super.needToQuoteValue(value) || first >= '0' && first <= '9' || first == '+' || first == '-' || first == '.';
        }
    }

    private Output() {
    }

    /** {@code node} as JSON or YAML; a table of {@code items} with {@code columns} otherwise. */
    public static void print(PrintWriter out, Format format, JsonNode node, List<JsonNode> items, List<Column> columns) {
        switch (format) {
            case json -> out.println(write(JSON, node));
            case yaml -> out.print(write(YAML, node));
            case table -> table(out, items, columns);
        }
        out.flush();
    }

    public static String write(ObjectMapper mapper, Object value) {
        try {
            return mapper.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write " + value, e);
        }
    }

    public static void table(PrintWriter out, List<JsonNode> items, List<Column> columns) {
        List<String[]> rows = new ArrayList<>();
        rows.add(columns.stream().map(Column::heading).toArray(String[]::new));
        for (JsonNode item : items) {
            rows.add(columns.stream().map(column -> column.cell().apply(item)).toArray(String[]::new));
        }
        int[] widths = new int[columns.size()];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                widths[i] = Math.max(widths[i], row[i].length());
            }
        }
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.length; i++) {
                line.append(i == row.length - 1 ? row[i] : String.format("%-" + (widths[i] + 2) + "s", row[i]));
            }
            out.println(line.toString().stripTrailing());
        }
        out.flush();
    }

    /** A cell: empty for null, the text of a scalar, compact JSON otherwise. */
    public static String text(JsonNode value) {
        if (value == null || value.isNull() || value.isMissingNode()) {
            return "";
        }
        return value.isValueNode() ? value.asText() : value.toString();
    }
}
