package dev.trafficmanager.tmctl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.trafficmanager.route.InvalidRouteException;
import dev.trafficmanager.route.Names;
import dev.trafficmanager.route.RouteKey;
import dev.trafficmanager.route.SplitKey;
import dev.trafficmanager.tmctl.Output.Column;
import dev.trafficmanager.tmctl.Output.Format;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The reading commands, tenants and resolve: one call each, printed as a table, JSON or YAML. */
final class Commands {
    private static final List<Column> ROUTE_COLUMNS = List.of(
            new Column("ROUTE", item -> item.path("tenant").asText() + "/" + item.path("service").asText() + "/"
                    + item.path("env").asText() + "/" + item.path("version").asText()),
            new Column("URL", item -> item.has("endpoints") ? endpoints(item.get("endpoints")) : item.path("url").asText()),
            Column.field("PROTOCOL", "protocol"), Column.field("TIMEOUT_MS", "timeoutMs"),
            new Column("RETRIES", item -> item.has("retries") ? item.path("retries").path("attempts").asText() + " on "
                    + Output.text(item.path("retries").path("on")) : ""),
            Column.field("ACTIVE", "active"), Column.field("REVISION", "revision"));
    private static final List<Column> SPLIT_COLUMNS = List.of(
            new Column("SPLIT", item -> item.path("tenant").asText() + "/" + item.path("service").asText() + "/"
                    + item.path("env").asText()),
            Column.field("WEIGHTS", "weights"), Column.field("STICKY_HEADER", "stickyHeader"),
            Column.field("STICKY_COOKIE", "stickyCookie"), Column.field("ACTIVE", "active"), Column.field("REVISION", "revision"));
    private static final List<Column> HISTORY_COLUMNS = List.of(Column.field("REVISION", "revision"),
            Column.field("EVENT", "type"), Column.field("ACTIVE", "active"), Column.field("URL", "url"),
            Column.field("OPTIONS", "options"), Column.field("AT", "at"), Column.field("PUBLISHED", "published"));

    private Commands() {
    }

    /** {@code -o table|json|yaml}. */
    static final class FormatOption {
        @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "table",
                description = "table, json or yaml (default: ${DEFAULT-VALUE})")
        Format format;
    }

    /** {@code --tenant T}, or TM_TENANT. */
    static final class TenantOption {
        @Option(names = "--tenant", paramLabel = "TENANT", defaultValue = "${env:TM_TENANT}",
                description = "the tenant (env TM_TENANT)")
        String tenant;

        String require() {
            if (tenant == null || tenant.isBlank()) {
                throw new UsageError("--tenant is needed (or TM_TENANT)");
            }
            return valid(() -> Names.require("tenant", tenant.trim()));
        }
    }

    @Command(name = "get", description = "Show routes and splits.",
            subcommands = {GetRoutes.class, GetRoute.class, GetSplits.class})
    static final class Get {
    }

    @Command(name = "routes", description = "A tenant's routes, in creation order.")
    static final class GetRoutes implements Callable<Integer> {
        @Mixin ApiOptions api;
        @Mixin TenantOption tenant;
        @Mixin FormatOption output;
        @Option(names = "--service", paramLabel = "S", description = "only this service") String service;
        @Option(names = "--env", paramLabel = "E", description = "only this environment") String env;
        @Option(names = "--active", paramLabel = "true|false", description = "only active or only inactive routes") Boolean active;

        @Override
        public Integer call() {
            StringBuilder query = new StringBuilder("/v1/routes/").append(tenant.require()).append("?");
            if (service != null) {
                query.append("service=").append(ApiClient.encode(service)).append('&');
            }
            if (env != null) {
                query.append("env=").append(ApiClient.encode(env)).append('&');
            }
            if (active != null) {
                query.append("active=").append(active).append('&');
            }
            List<JsonNode> items = api.client().listAll(query.substring(0, query.length() - 1));
            Output.print(Out.out(), output.format, array(items), items, ROUTE_COLUMNS);
            return Tmctl.OK;
        }
    }

    @Command(name = "route", description = "One route, by its key TENANT/SERVICE/ENV/VERSION.")
    static final class GetRoute implements Callable<Integer> {
        @Mixin ApiOptions api;
        @Mixin FormatOption output;
        @Parameters(paramLabel = "T/S/E/V") String key;

        @Override
        public Integer call() {
            RouteKey route = valid(() -> RouteKey.parse(key));
            JsonNode body = api.client().get("/v1/routes/" + route).body();
            Output.print(Out.out(), output.format, body, List.of(body), ROUTE_COLUMNS);
            return Tmctl.OK;
        }
    }

    @Command(name = "splits", description = "A tenant's splits (deleted ones show active false).")
    static final class GetSplits implements Callable<Integer> {
        @Mixin ApiOptions api;
        @Mixin TenantOption tenant;
        @Mixin FormatOption output;

        @Override
        public Integer call() {
            List<JsonNode> items = api.client().items("/v1/splits/" + tenant.require());
            Output.print(Out.out(), output.format, array(items), items, SPLIT_COLUMNS);
            return Tmctl.OK;
        }
    }

    @Command(name = "history", description = "A route's (T/S/E/V) or a split's (T/S/E) change events, oldest first.")
    static final class History implements Callable<Integer> {
        @Mixin ApiOptions api;
        @Mixin FormatOption output;
        @Parameters(paramLabel = "KEY") String key;

        @Override
        public Integer call() {
            String path = key.chars().filter(c -> c == '/').count() == 2
                    ? "/v1/splits/" + valid(() -> SplitKey.parse(key)) : "/v1/routes/" + valid(() -> RouteKey.parse(key));
            JsonNode body = api.client().get(path + "/history").body();
            Output.print(Out.out(), output.format, body, ApiClient.items(body.path("items")), HISTORY_COLUMNS);
            return Tmctl.OK;
        }
    }

    @Command(name = "tenants", description = "Tenants (admin token).", subcommands = TenantsCreate.class)
    static final class Tenants {
    }

    @Command(name = "create", description = "Create a tenant; prints its token, shown this once.")
    static final class TenantsCreate implements Callable<Integer> {
        @Mixin ApiOptions api;
        @Mixin FormatOption output;
        @Parameters(paramLabel = "NAME") String name;

        @Override
        public Integer call() {
            String tenant = valid(() -> Names.require("tenant", name));
            JsonNode body = api.client().post("/v1/tenants", JsonNodeFactory.instance.objectNode().put("name", tenant), null).body();
            Output.print(Out.out(), output.format, body, List.of(body),
                    List.of(Column.field("TENANT", "name"), Column.field("TOKEN (shown once)", "token")));
            return Tmctl.OK;
        }
    }

    @Command(name = "resolve", description = "What a sidecar would do for a request: the tier that answers, the entry, its age.")
    static final class Resolve implements Callable<Integer> {
        @Option(names = "--sidecar", paramLabel = "URL", defaultValue = "${env:TM_SIDECAR_ADMIN:-http://127.0.0.1:15000}",
                description = "the sidecar's admin port (env TM_SIDECAR_ADMIN; default: ${DEFAULT-VALUE})")
        String sidecar;
        @Option(names = "--tenant", paramLabel = "T", description = "default: the sidecar's") String tenant;
        @Option(names = "--service", paramLabel = "S", required = true) String service;
        @Option(names = "--env", paramLabel = "E", description = "default: the sidecar's") String env;
        @ArgGroup(exclusive = true) Target target;
        @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "json",
                description = "json or yaml (default: ${DEFAULT-VALUE})")
        Format format;

        static final class Target {
            @Option(names = "--version", paramLabel = "V", description = "default: the sidecar's") String version;
            @Option(names = "--split", description = "the service's split instead of a route") boolean split;
        }

        @Override
        public Integer call() {
            StringBuilder query = new StringBuilder("/admin/resolve?service=").append(ApiClient.encode(service));
            if (tenant != null) {
                query.append("&tenant=").append(ApiClient.encode(tenant));
            }
            if (env != null) {
                query.append("&env=").append(ApiClient.encode(env));
            }
            if (target != null && target.split) {
                query.append("&split");
            } else if (target != null && target.version != null) {
                query.append("&version=").append(ApiClient.encode(target.version));
            }
            JsonNode body = new ApiClient(sidecar, null).get(query.toString()).body();
            Output.print(Out.out(), format == Format.table ? Format.json : format, body, List.of(), List.of());
            return Tmctl.OK;
        }
    }

    static <T> T valid(java.util.function.Supplier<T> check) {
        try {
            return check.get();
        } catch (InvalidRouteException e) {
            throw new UsageError(e.getMessage());
        }
    }

    private static ArrayNode array(List<JsonNode> items) {
        ArrayNode array = JsonNodeFactory.instance.arrayNode();
        items.forEach(array::add);
        return array;
    }

    private static String endpoints(JsonNode endpoints) {
        List<String> urls = new ArrayList<>();
        endpoints.forEach(e -> urls.add(e.path("url").asText() + (e.path("weight").asInt(1) == 1 ? "" : " *" + e.path("weight").asInt())));
        return String.join(", ", urls);
    }
}
