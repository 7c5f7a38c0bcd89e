package dev.trafficmanager.tmctl.spec;

import com.fasterxml.jackson.databind.JsonNode;
import dev.trafficmanager.route.InvalidRouteException;
import dev.trafficmanager.route.Names;
import dev.trafficmanager.route.RouteKey;
import dev.trafficmanager.route.RouteOptions;
import dev.trafficmanager.route.RouteProtocol;
import dev.trafficmanager.route.SplitKey;
import dev.trafficmanager.route.TrafficJson;
import dev.trafficmanager.route.UpstreamUrl;
import dev.trafficmanager.tmctl.ApiClient;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Reads a routes file and checks it whole before anything is applied, with the route model's own
 * rules (names, URLs, endpoints, timeouts, retries, splits): every problem is reported with its
 * line, all of them at once, and a file with any problem is applied not at all.
 */
public final class SpecReader {
    private static final Set<String> TOP_FIELDS = Set.of("tenant", "routes", "splits");
    private static final Set<String> ROUTE_FIELDS =
            Set.of("service", "env", "version", "url", "endpoints", "protocol", "timeoutMs", "retries", "active");
    private static final Set<String> SPLIT_FIELDS = Set.of("service", "env", "weights", "stickyHeader", "stickyCookie");
    private static final int MAX_PROBLEMS = 50;

    private final LocatedYaml yaml;
    private final List<SpecError.Problem> problems = new ArrayList<>();

    private SpecReader(LocatedYaml yaml) {
        this.yaml = yaml;
    }

    /** The file in {@code text}; a {@link SpecError} listing every problem found otherwise. */
    public static RoutesFile read(String text) {
        return new SpecReader(LocatedYaml.parse(text)).read();
    }

    private RoutesFile read() {
        JsonNode root = yaml.root();
        if (!root.isObject()) {
            throw new SpecError(yaml.line(root), "the file is " + kind(root) + " (expected: a mapping with tenant, routes, splits)");
        }
        unknownFields(root, TOP_FIELDS, "the file");
        String tenant = name(root, "tenant");
        List<RouteSpec> routes = new ArrayList<>();
        List<SplitSpec> splits = new ArrayList<>();
        Map<Object, Integer> seen = new HashMap<>();
        for (JsonNode entry : list(root, "routes")) {
            RouteSpec route = route(tenant, entry, seen);
            if (route != null) {
                routes.add(route);
            }
        }
        for (JsonNode entry : list(root, "splits")) {
            SplitSpec split = split(tenant, entry, seen);
            if (split != null) {
                splits.add(split);
            }
        }
        if (!problems.isEmpty()) {
            throw new SpecError(problems.subList(0, Math.min(problems.size(), MAX_PROBLEMS)));
        }
        return new RoutesFile(tenant, routes, splits);
    }

    private RouteSpec route(String tenant, JsonNode entry, Map<Object, Integer> seen) {
        if (!entry.isObject()) {
            problem(yaml.line(entry), "routes: an entry is " + kind(entry) + " (expected: a mapping)");
            return null;
        }
        int before = problems.size();
        unknownFields(entry, ROUTE_FIELDS, "a route");
        String service = name(entry, "service");
        String env = name(entry, "env");
        String version = name(entry, "version");
        if (tenant != null && service != null && env != null && version != null) {
            RouteKey key = new RouteKey(tenant, service, env, version);
            unique(seen, key, "route " + key, yaml.line(entry));
        }
        JsonNode url = entry.get("url");
        JsonNode endpoints = entry.get("endpoints");
        if ((url == null) == (endpoints == null)) {
            problem(yaml.line(entry), "a route: " + (url == null ? "neither url nor endpoints" : "both url and endpoints")
                    + " (expected: one of them)");
        } else if (url != null) {
            check(entry, "url", () -> url.isTextual() ? UpstreamUrl.require(url.asText())
                    : fail("invalid_url", "url: " + kind(url) + " (expected: a string)"));
        }
        RouteProtocol protocol = check(entry, "protocol", () -> {
            JsonNode name = entry.get("protocol");
            return name == null ? RouteProtocol.AUTO : name.isTextual() ? RouteProtocol.parse(name.asText())
                    : fail("invalid_protocol", "protocol: " + kind(name) + " (expected: auto, http1 or h2)");
        });
        RouteOptions options = check(entry, "endpoints", () -> TrafficJson.options(entry));
        JsonNode active = entry.get("active");
        if (active != null && !active.isBoolean()) {
            problem(yaml.line(entry, "active"), "active: " + kind(active) + " (expected: true or false)");
        }
        if (problems.size() > before) {
            return null;
        }
        return new RouteSpec(new RouteKey(tenant, service, env, version), options.urlOr(url == null ? null : url.asText()),
                protocol, options, active == null || active.asBoolean(), yaml.line(entry));
    }

    private SplitSpec split(String tenant, JsonNode entry, Map<Object, Integer> seen) {
        if (!entry.isObject()) {
            problem(yaml.line(entry), "splits: an entry is " + kind(entry) + " (expected: a mapping)");
            return null;
        }
        int before = problems.size();
        unknownFields(entry, SPLIT_FIELDS, "a split");
        String service = name(entry, "service");
        String env = name(entry, "env");
        if (tenant != null && service != null && env != null) {
            SplitKey key = new SplitKey(tenant, service, env);
            unique(seen, key, "split " + key, yaml.line(entry));
        }
        var split = check(entry, "weights", () -> TrafficJson.split(entry));
        if (problems.size() > before) {
            return null;
        }
        return new SplitSpec(new SplitKey(tenant, service, env), split, true, yaml.line(entry));
    }

    private void unique(Map<Object, Integer> seen, Object key, String what, int line) {
        Integer first = seen.putIfAbsent(key, line);
        if (first != null) {
            problem(line, what + " is listed twice (first on line " + first + ")");
        }
    }

    private List<JsonNode> list(JsonNode root, String field) {
        JsonNode value = root.get(field);
        if (value == null || value.isNull()) {
            return List.of();
        }
        if (!value.isArray()) {
            problem(yaml.line(root, field), field + ": " + kind(value) + " (expected: a list)");
            return List.of();
        }
        return ApiClient.items(value);
    }

    private String name(JsonNode object, String field) {
        JsonNode value = object.get(field);
        if (value != null && (value.isNumber() || value.isBoolean()) && yaml.text(object, field) != null) {
            String written = yaml.text(object, field); // version: 2 is the name "2", as YAML read it a number
            return check(object, field, () -> Names.require(field, written));
        }
        if (value == null || !value.isTextual()) {
            problem(yaml.line(object, field), field + ": " + (value == null ? "missing" : kind(value)) + " (expected: a name, "
                    + Names.RULE + ")");
            return null;
        }
        return check(object, field, () -> Names.require(field, value.asText()));
    }

    private void unknownFields(JsonNode object, Set<String> known, String what) {
        for (Iterator<String> names = object.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!known.contains(name)) {
                problem(yaml.line(object, name), what + ": unknown field \"" + name + "\" (expected only: "
                        + String.join(", ", known.stream().sorted().toList()) + ")");
            }
        }
    }

    /** Runs a route-model check; its refusal becomes a problem on the line of the field it names. */
    private <T> T check(JsonNode object, String field, Supplier<T> check) {
        try {
            return check.get();
        } catch (InvalidRouteException e) {
            problem(lineOf(object, e.getMessage(), field), e.getMessage());
            return null;
        }
    }

    /** The line of the field a message starts with ({@code endpoints[1].weight: ...}), else of {@code field}. */
    private int lineOf(JsonNode object, String message, String field) {
        int end = 0;
        while (end < message.length() && Character.isLetterOrDigit(message.charAt(end))) {
            end++;
        }
        String named = message.substring(0, end);
        if (named.equals("endpoint") && object.path("endpoints").isArray()) { // Endpoint's own check: "endpoint URL: ..."
            for (JsonNode item : object.get("endpoints")) {
                if (message.startsWith("endpoint " + item.path("url").asText() + ":")) {
                    return yaml.line(item);
                }
            }
        }
        if (!object.has(named)) {
            return yaml.line(object, object.has(field) ? field : named);
        }
        JsonNode value = object.get(named);
        if (value.isArray() && end < message.length() && message.charAt(end) == '[') {
            int close = message.indexOf(']', end);
            try {
                int index = Integer.parseInt(message.substring(end + 1, close));
                if (index < value.size() && yaml.line(value.get(index)) > 0) {
                    return yaml.line(value.get(index));
                }
            } catch (RuntimeException e) {
                // not an index: the field's own line
            }
        }
        return yaml.line(object, named);
    }

    private void problem(int line, String message) {
        problems.add(new SpecError.Problem(line, message));
    }

    private static <T> T fail(String code, String message) {
        throw new InvalidRouteException(code, message);
    }

    private static String kind(JsonNode node) {
        return node == null ? "missing" : node.isNull() ? "empty" : node.getNodeType().name().toLowerCase(Locale.ROOT)
                .replace("pojo", "value").replace("binary", "value");
    }
}
