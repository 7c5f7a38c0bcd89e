package dev.trafficmanager.tmctl.spec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.trafficmanager.route.RouteKey;
import dev.trafficmanager.route.RouteOptions;
import dev.trafficmanager.route.RouteProtocol;
import dev.trafficmanager.route.TrafficJson;

/**
 * A route as a file (or the control API) says it should be: its URL ({@code url} is the first
 * endpoint's when endpoints are listed), protocol, options and whether it is active. {@code line} is
 * where the file lists it (0 for one read from the API).
 */
public record RouteSpec(RouteKey key, String url, RouteProtocol protocol, RouteOptions options, boolean active, int line) {

    /** A route as the control API shows it ({@code GET /v1/routes/...}). */
    public static RouteSpec fromApi(JsonNode view) {
        RouteKey key = new RouteKey(view.path("tenant").asText(), view.path("service").asText(),
                view.path("env").asText(), view.path("version").asText());
        return new RouteSpec(key, view.path("url").asText(), RouteProtocol.parse(view.path("protocol").asText("auto")),
                TrafficJson.options(view), view.path("active").asBoolean(true), 0);
    }

    /** The body of the PUT that makes the route say this: {@code url} or {@code endpoints}, and the rest. */
    public ObjectNode body() {
        ObjectNode options = TrafficJson.toJson(this.options);
        ObjectNode body = JsonNodeFactory.instance.objectNode();
        if (this.options.endpoints().isEmpty()) {
            body.put("url", url);
        }
        body.put("protocol", protocol.wireName());
        if (options != null) {
            body.setAll(options);
        }
        return body;
    }

    /** What a file says of the route, in the file's field order; defaults are left out. */
    public ObjectNode toFile() {
        ObjectNode entry = JsonNodeFactory.instance.objectNode()
                .put("service", key.service()).put("env", key.env()).put("version", key.version());
        ObjectNode body = body();
        if (protocol == RouteProtocol.AUTO) {
            body.remove("protocol");
        }
        entry.setAll(body);
        if (!active) {
            entry.put("active", false);
        }
        return entry;
    }
}
