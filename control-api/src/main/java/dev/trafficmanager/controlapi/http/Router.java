package dev.trafficmanager.controlapi.http;

import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Maps a method and a path to an endpoint. Patterns are literal segments and {@code {name}}
 * segments, which match any one non-empty segment (endpoints validate the values themselves).
 * Built once at start, then only read: safe to share between event loops.
 */
public final class Router {
    /** Runs on a worker thread; may block on JDBC. */
    @FunctionalInterface
    public interface Endpoint {
        ApiResponse handle(ApiRequest request);
    }

    private record Route(HttpMethod method, String[] segments, Endpoint endpoint) {
    }

    /** The endpoint and the request with its path parameters filled in. */
    public record Match(Endpoint endpoint, ApiRequest request) {
    }

    private final List<Route> routes = new ArrayList<>();

    public Router add(HttpMethod method, String pattern, Endpoint endpoint) {
        routes.add(new Route(method, split(pattern), endpoint));
        return this;
    }

    /** Returns the match, or throws 404 {@code not_found} or 405 {@code method_not_allowed}. */
    public Match match(ApiRequest request) {
        String[] path = split(request.path());
        Set<String> allowed = new TreeSet<>();
        for (Route route : routes) {
            List<String> params = bind(route.segments(), path);
            if (params == null) {
                continue;
            }
            if (route.method().equals(request.method())) {
                return new Match(route.endpoint(), request.withPathParams(params));
            }
            allowed.add(route.method().name());
        }
        if (allowed.isEmpty()) {
            throw ApiException.notFound("not_found", "no such resource: " + request.path());
        }
        throw new ApiException(HttpResponseStatus.METHOD_NOT_ALLOWED, "method_not_allowed",
                request.method() + " " + request.path() + " (expected: " + String.join(", ", allowed) + ")")
                .withHeader("Allow", String.join(", ", allowed));
    }

    private static List<String> bind(String[] pattern, String[] path) {
        if (pattern.length != path.length) {
            return null;
        }
        List<String> params = new ArrayList<>(2);
        for (int i = 0; i < pattern.length; i++) {
            if (pattern[i].startsWith("{")) {
                if (path[i].isEmpty()) {
                    return null;
                }
                params.add(path[i]);
            } else if (!pattern[i].equals(path[i])) {
                return null;
            }
        }
        return List.copyOf(params);
    }

    private static String[] split(String path) {
        String trimmed = path.startsWith("/") ? path.substring(1) : path;
        return trimmed.split("/", -1);
    }
}
