package dev.trafficmanager.tmctl.plan;

import dev.trafficmanager.route.RouteKey;
import dev.trafficmanager.route.SplitKey;
import dev.trafficmanager.tmctl.ApiClient;
import dev.trafficmanager.tmctl.spec.RouteSpec;
import dev.trafficmanager.tmctl.spec.SplitSpec;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A tenant's routes and splits as the control API has them now, each with the revision a write
 * sends back in {@code If-Match}: inactive routes and deleted splits included.
 */
public record ServerState(String tenant, Map<RouteKey, Stored<RouteSpec>> routes, Map<SplitKey, Stored<SplitSpec>> splits) {

    /** What the API holds, its revision and the API's JSON of it. */
    public record Stored<T>(T spec, long revision, JsonNode view) {
    }

    public static ServerState read(ApiClient api, String tenant) {
        String path = ApiClient.encode(tenant);
        return of(tenant, api.listAll("/v1/routes/" + path), api.items("/v1/splits/" + path));
    }

    /** The state in the API's own JSON: the views of {@code GET /v1/routes/{tenant}} and {@code /v1/splits/{tenant}}. */
    public static ServerState of(String tenant, List<JsonNode> routeViews, List<JsonNode> splitViews) {
        Map<RouteKey, Stored<RouteSpec>> routes = new LinkedHashMap<>();
        routeViews.stream()
                .map(view -> new Stored<>(RouteSpec.fromApi(view), view.path("revision").asLong(), view))
                .sorted(Comparator.comparing(stored -> stored.spec().key().toString()))
                .forEach(stored -> routes.put(stored.spec().key(), stored));
        Map<SplitKey, Stored<SplitSpec>> splits = new LinkedHashMap<>();
        for (JsonNode view : splitViews) {
            SplitSpec split = SplitSpec.fromApi(view);
            splits.put(split.key(), new Stored<>(split, view.path("revision").asLong(), view));
        }
        return new ServerState(tenant, routes, splits);
    }

    /** The state as JSON, to save with a plan: {@code routes} and {@code splits} as the API showed them. */
    public ObjectNode toJson() {
        ObjectNode json = JsonNodeFactory.instance.objectNode();
        ArrayNode routeViews = json.putArray("routes");
        routes.values().forEach(stored -> routeViews.add(stored.view()));
        ArrayNode splitViews = json.putArray("splits");
        splits.values().forEach(stored -> splitViews.add(stored.view()));
        return json;
    }

    /** The routes (all) and the active splits, as a file that would apply as unchanged. */
    public dev.trafficmanager.tmctl.spec.RoutesFile toFile() {
        List<RouteSpec> routeSpecs = routes.values().stream().map(Stored::spec).toList();
        List<SplitSpec> splitSpecs = splits.values().stream().map(Stored::spec).filter(SplitSpec::active)
                .sorted(Comparator.comparing(split -> split.key().toString())).toList();
        return new dev.trafficmanager.tmctl.spec.RoutesFile(tenant, routeSpecs, splitSpecs);
    }
}
