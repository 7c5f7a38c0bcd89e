package dev.trafficmanager.tmctl.spec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.trafficmanager.route.Split;
import dev.trafficmanager.route.SplitKey;
import dev.trafficmanager.route.TrafficJson;

/** A split as a file (or the control API) says it should be; {@code line} as for {@link RouteSpec}. */
public record SplitSpec(SplitKey key, Split split, boolean active, int line) {

    /** A split as the control API shows it ({@code GET /v1/splits/...}). */
    public static SplitSpec fromApi(JsonNode view) {
        SplitKey key = new SplitKey(view.path("tenant").asText(), view.path("service").asText(), view.path("env").asText());
        return new SplitSpec(key, TrafficJson.split(view), view.path("active").asBoolean(true), 0);
    }

    public ObjectNode body() {
        return TrafficJson.toJson(split);
    }

    public ObjectNode toFile() {
        ObjectNode entry = JsonNodeFactory.instance.objectNode().put("service", key.service()).put("env", key.env());
        entry.setAll(body());
        return entry;
    }
}
