package dev.trafficmanager.tmctl.plan;

import dev.trafficmanager.route.RouteKey;
import dev.trafficmanager.route.RouteOptions;
import dev.trafficmanager.route.SplitKey;
import dev.trafficmanager.route.TrafficJson;
import dev.trafficmanager.tmctl.ApiClient;
import dev.trafficmanager.tmctl.plan.Change.Kind;
import dev.trafficmanager.tmctl.plan.ServerState.Stored;
import dev.trafficmanager.tmctl.spec.RouteSpec;
import dev.trafficmanager.tmctl.spec.RoutesFile;
import dev.trafficmanager.tmctl.spec.SplitSpec;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Compares a routes file with the control API's state and lists the writes that make the tenant
 * what the file says, in an order that never routes to a version about to go: creates, updates and
 * activations of routes first (a create the file keeps inactive deactivated right after it), then the
 * splits, then the splits' deletes, then route deactivations.
 * With {@code prune}, routes the file does not list are deactivated and splits it does not list are
 * deleted; without it they are left alone and counted.
 */
public final class Planner {
    private final ApiClient api;
    private final List<Change> first = new ArrayList<>();
    private final List<Change> splitChanges = new ArrayList<>();
    private final List<Change> last = new ArrayList<>();
    private final Map<String, Long> revisions = new HashMap<>();
    private int unlisted;

    private Planner(ApiClient api) {
        this.api = api;
    }

    public static Plan plan(RoutesFile file, ServerState state, boolean prune, ApiClient api) {
        Planner planner = new Planner(api);
        for (RouteSpec route : file.routes()) {
            planner.route(route, state.routes().get(route.key()));
        }
        for (SplitSpec split : file.splits()) {
            planner.split(split, state.splits().get(split.key()));
        }
        Map<RouteKey, RouteSpec> listedRoutes = new HashMap<>();
        file.routes().forEach(route -> listedRoutes.put(route.key(), route));
        for (Stored<RouteSpec> stored : state.routes().values()) {
            if (!listedRoutes.containsKey(stored.spec().key()) && stored.spec().active()) {
                planner.unlistedRoute(stored, prune);
            }
        }
        Map<SplitKey, SplitSpec> listedSplits = new HashMap<>();
        file.splits().forEach(split -> listedSplits.put(split.key(), split));
        for (Stored<SplitSpec> stored : state.splits().values()) {
            if (!listedSplits.containsKey(stored.spec().key()) && stored.spec().active()) {
                planner.unlistedSplit(stored, prune);
            }
        }
        List<Change> changes = new ArrayList<>(planner.first);
        changes.addAll(planner.splitChanges);
        changes.addAll(planner.last);
        return new Plan(file.tenant(), changes, planner.revisions, planner.unlisted);
    }

    private void route(RouteSpec wanted, Stored<RouteSpec> stored) {
        String target = "route " + wanted.key();
        String path = routePath(wanted.key());
        revisions.put(target, stored == null ? 0 : stored.revision());
        if (stored == null) {
            first.add(new Change(Kind.CREATE, target, describe(wanted), wanted.line(),
                    revision -> api.put(path, wanted.body(), 0L).revision()));
            if (!wanted.active()) { // at once: a route the file keeps inactive is live only between two writes
                first.add(new Change(Kind.DEACTIVATE, target, List.of("active: true -> false"), wanted.line(),
                        revision -> api.post(path + "/deactivate", null, revision).revision()));
            }
            return;
        }
        RouteSpec current = stored.spec();
        List<String> fields = differences(current, wanted);
        if (!fields.isEmpty()) {
            first.add(new Change(Kind.UPDATE, target, fields, wanted.line(),
                    revision -> api.put(path, wanted.body(), revision).revision()));
        }
        if (current.active() != wanted.active()) {
            Change change = new Change(wanted.active() ? Kind.ACTIVATE : Kind.DEACTIVATE, target,
                    List.of("active: " + current.active() + " -> " + wanted.active()), wanted.line(),
                    revision -> api.post(path + (wanted.active() ? "/activate" : "/deactivate"), null, revision).revision());
            (wanted.active() ? first : last).add(change);
        }
        if (fields.isEmpty() && current.active() == wanted.active()) {
            first.add(new Change(Kind.UNCHANGED, target, List.of(), wanted.line(), revision -> revision));
        }
    }

    private void split(SplitSpec wanted, Stored<SplitSpec> stored) {
        String target = "split " + wanted.key();
        String path = "/v1/splits/" + wanted.key();
        revisions.put(target, stored == null ? 0 : stored.revision());
        Change.Step put = revision -> api.put(path, wanted.body(), revision).revision();
        if (stored == null || !stored.spec().active()) {
            List<String> fields = new ArrayList<>(List.of("weights: " + TrafficJson.weights(wanted.split())));
            sticky(fields, null, wanted);
            if (stored != null) {
                fields.add("(deleted before, at revision " + stored.revision() + ")");
            }
            splitChanges.add(new Change(Kind.CREATE, target, fields, wanted.line(), put));
            return;
        }
        SplitSpec current = stored.spec();
        List<String> fields = new ArrayList<>();
        if (!current.split().weights().equals(wanted.split().weights())) {
            fields.add("weights: " + TrafficJson.weights(current.split()) + " -> " + TrafficJson.weights(wanted.split()));
        }
        sticky(fields, current, wanted);
        splitChanges.add(fields.isEmpty() ? new Change(Kind.UNCHANGED, target, List.of(), wanted.line(), revision -> revision)
                : new Change(Kind.UPDATE, target, fields, wanted.line(), put));
    }

    private void unlistedRoute(Stored<RouteSpec> stored, boolean prune) {
        if (!prune) {
            unlisted++;
            return;
        }
        String target = "route " + stored.spec().key();
        revisions.put(target, stored.revision());
        last.add(new Change(Kind.DEACTIVATE, target, List.of("not in the file (--prune)"), 0,
                revision -> api.post(routePath(stored.spec().key()) + "/deactivate", null, revision).revision()));
    }

    private void unlistedSplit(Stored<SplitSpec> stored, boolean prune) {
        if (!prune) {
            unlisted++;
            return;
        }
        String target = "split " + stored.spec().key();
        revisions.put(target, stored.revision());
        splitChanges.add(new Change(Kind.DELETE, target, List.of("not in the file (--prune)"), 0,
                revision -> api.delete("/v1/splits/" + stored.spec().key(), revision).revision()));
    }

    private static String routePath(RouteKey key) {
        return "/v1/routes/" + key;
    }

    /** A new route's fields, as the plan shows them: {@code field: value}, defaults left out. */
    private static List<String> describe(RouteSpec route) {
        List<String> fields = new ArrayList<>();
        route.toFile().fields().forEachRemaining(field -> {
            if (!List.of("service", "env", "version", "active").contains(field.getKey())) {
                fields.add(field.getKey() + ": " + (field.getValue().isTextual() ? field.getValue().asText() : field.getValue()));
            }
        });
        return fields;
    }

    /** Each field that differs, as {@code field: old -> new}. */
    static List<String> differences(RouteSpec current, RouteSpec wanted) {
        List<String> fields = new ArrayList<>();
        RouteOptions was = current.options();
        RouteOptions now = wanted.options();
        if (!was.endpoints().equals(now.endpoints())) {
            fields.add("endpoints: " + endpoints(was) + " -> " + endpoints(now));
        } else if (now.endpoints().isEmpty() && !current.url().equals(wanted.url())) {
            fields.add("url: " + current.url() + " -> " + wanted.url());
        }
        if (current.protocol() != wanted.protocol()) {
            fields.add("protocol: " + current.protocol().wireName() + " -> " + wanted.protocol().wireName());
        }
        if (was.timeoutMs() != now.timeoutMs()) {
            fields.add("timeoutMs: " + orDefault(was.timeoutMs() == 0 ? null : was.timeoutMs())
                    + " -> " + orDefault(now.timeoutMs() == 0 ? null : now.timeoutMs()));
        }
        if (!Objects.equals(was.retries(), now.retries())) {
            fields.add("retries: " + orDefault(retries(was)) + " -> " + orDefault(retries(now)));
        }
        return fields;
    }

    private static Object endpoints(RouteOptions options) {
        if (options.endpoints().isEmpty()) {
            return "(url)";
        }
        return TrafficJson.toJson(options).get("endpoints");
    }

    private static Object retries(RouteOptions options) {
        return options.retries() == null ? null : TrafficJson.toJson(options).get("retries");
    }

    private static String orDefault(Object value) {
        return value == null ? "(default)" : value.toString();
    }

    private static void sticky(List<String> fields, SplitSpec current, SplitSpec wanted) {
        if (current == null) {
            if (wanted.split().stickyHeader() != null) {
                fields.add("stickyHeader: " + wanted.split().stickyHeader());
            }
            if (wanted.split().stickyCookie() != null) {
                fields.add("stickyCookie: " + wanted.split().stickyCookie());
            }
            return;
        }
        String header = current.split().stickyHeader();
        String cookie = current.split().stickyCookie();
        if (!Objects.equals(header, wanted.split().stickyHeader())) {
            fields.add("stickyHeader: " + orNone(header) + " -> " + orNone(wanted.split().stickyHeader()));
        }
        if (!Objects.equals(cookie, wanted.split().stickyCookie())) {
            fields.add("stickyCookie: " + orNone(cookie) + " -> " + orNone(wanted.split().stickyCookie()));
        }
    }

    private static String orNone(String value) {
        return value == null ? "(none)" : value;
    }
}
