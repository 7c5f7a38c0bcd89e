package dev.trafficmanager.tmctl.spec;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/** A tenant's routes and splits as code: what {@code tmctl apply} makes true, what {@code export} writes. */
public record RoutesFile(String tenant, List<RouteSpec> routes, List<SplitSpec> splits) {

    public RoutesFile {
        routes = List.copyOf(routes);
        splits = List.copyOf(splits);
    }

    /** The file's YAML tree: {@code tenant}, {@code routes}, {@code splits}. */
    public ObjectNode toTree() {
        ObjectNode root = JsonNodeFactory.instance.objectNode().put("tenant", tenant);
        ArrayNode routeList = root.putArray("routes");
        routes.forEach(route -> routeList.add(route.toFile()));
        ArrayNode splitList = root.putArray("splits");
        splits.forEach(split -> splitList.add(split.toFile()));
        return root;
    }
}
