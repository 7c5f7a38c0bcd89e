package dev.trafficmanager.controlapi.routes;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.trafficmanager.controlapi.auth.Authenticator;
import dev.trafficmanager.controlapi.auth.Principal;
import dev.trafficmanager.controlapi.http.ApiException;
import dev.trafficmanager.controlapi.http.ApiRequest;
import dev.trafficmanager.controlapi.http.ApiResponse;
import dev.trafficmanager.controlapi.http.Json;
import dev.trafficmanager.controlapi.http.Router;
import dev.trafficmanager.route.Names;
import dev.trafficmanager.route.Route;
import dev.trafficmanager.route.RouteKey;
import dev.trafficmanager.route.RouteOptions;
import dev.trafficmanager.route.RouteProtocol;
import dev.trafficmanager.route.TrafficJson;
import dev.trafficmanager.route.UpstreamUrl;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The {@code /v1/routes} endpoints: authentication, input checks and the JSON shapes; the store
 * does the writing. Checks run in this order: the path, the token (401), the tenant (403), then the
 * input (400), so a caller without access learns nothing about the input's validity.
 */
public final class RoutesApi {
    private static final String ROUTE = "/v1/routes/{tenant}/{service}/{env}/{version}";
    private static final Set<String> ROUTE_FIELDS = Set.of("url", "endpoints", "protocol", "timeoutMs", "retries");
    private static final int DEFAULT_LIMIT = 100;
    private static final int MAX_LIMIT = 1000;

    private final RouteStore store;
    private final UpstreamGuard guard;
    private final Authenticator authenticator;
    private final Json json;
    private final Runnable afterWrite;

    /** @param afterWrite runs after each committed change (wakes the outbox relay) */
    public RoutesApi(RouteStore store, Authenticator authenticator, Json json, UpstreamGuard guard, Runnable afterWrite) {
        this.store = store;
        this.guard = guard;
        this.authenticator = authenticator;
        this.json = json;
        this.afterWrite = afterWrite;
    }

    public void register(Router router) {
        router.add(HttpMethod.PUT, ROUTE, this::upsert)
                .add(HttpMethod.GET, ROUTE, this::get)
                .add(HttpMethod.POST, ROUTE + "/deactivate", request -> setActive(request, false))
                .add(HttpMethod.POST, ROUTE + "/activate", request -> setActive(request, true))
                .add(HttpMethod.GET, ROUTE + "/history", this::history)
                .add(HttpMethod.GET, "/v1/routes/{tenant}", this::list);
    }

    private ApiResponse upsert(ApiRequest request) {
        RouteKey key = authorizedKey(request);
        ObjectNode body = json.readFields(request.body(), ROUTE_FIELDS);
        JsonNode protocolName = body.get("protocol");
        if (protocolName != null && !protocolName.isNull() && !protocolName.isTextual()) {
            throw ApiException.badRequest("invalid_json", "body: field \"protocol\" is not a string");
        }
        RouteProtocol protocol = ApiException.validInput(() -> RouteProtocol.parse(
                protocolName == null || protocolName.isNull() ? null : protocolName.asText()));
        RouteOptions options = ApiException.validInput(() -> TrafficJson.options(body));
        String url = url(body, options);
        guard.check(url);
        options.endpoints().forEach(endpoint -> guard.check(endpoint.url()));
        RouteChange change = store.upsert(key, url, protocol, options, ifMatch(request));
        return written(change, change.created() ? HttpResponseStatus.CREATED : HttpResponseStatus.OK);
    }

    /** The body's {@code url}, or its first endpoint's: exactly one of the two is given. */
    private static String url(ObjectNode body, RouteOptions options) {
        JsonNode url = body.get("url");
        if (url != null && !options.endpoints().isEmpty()) {
            throw ApiException.badRequest("invalid_json", "body: both \"url\" and \"endpoints\" (expected: one of them)");
        }
        if (url == null && options.endpoints().isEmpty()) {
            throw ApiException.badRequest("invalid_json", "body: field \"url\" is missing (expected: \"url\" or \"endpoints\")");
        }
        if (url != null && !url.isTextual()) {
            throw ApiException.badRequest("invalid_json", "body: field \"url\" is "
                    + url.getNodeType().name().toLowerCase(java.util.Locale.ROOT) + " (expected: a string)");
        }
        return url != null ? validUrl(url.asText()) : options.urlOr(null);
    }

    private ApiResponse setActive(ApiRequest request, boolean active) {
        RouteKey key = authorizedKey(request);
        return written(store.setActive(key, active, ifMatch(request)), HttpResponseStatus.OK);
    }

    private ApiResponse get(ApiRequest request) {
        return withEtag(store.get(authorizedKey(request)), HttpResponseStatus.OK);
    }

    private ApiResponse history(ApiRequest request) {
        RouteKey key = authorizedKey(request);
        return ApiResponse.json(HttpResponseStatus.OK, Map.of("route", key.toString(), "items", store.history(key)));
    }

    private ApiResponse list(ApiRequest request) {
        String tenant = request.pathParam(0);
        authenticator.authenticate(request).requireTenant(tenant);
        RouteFilter filter = new RouteFilter(name("tenant", tenant), optionalName(request, "service"),
                optionalName(request, "env"), optionalBoolean(request, "active"));
        RoutePage page = store.list(filter, cursor(request.queryParam("cursor")), limit(request.queryParam("limit")));
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("items", page.routes().stream().map(RoutesApi::view).toList());
        body.put("nextCursor", page.nextAfterId() == null ? null : encodeCursor(page.nextAfterId()));
        return ApiResponse.json(HttpResponseStatus.OK, body);
    }

    private ApiResponse written(RouteChange change, HttpResponseStatus status) {
        if (change.changed()) {
            afterWrite.run();
        }
        return withEtag(change.route(), status);
    }

    /** The route as JSON, with its revision as the ETag a later If-Match can send back. */
    private static ApiResponse withEtag(Route route, HttpResponseStatus status) {
        return ApiResponse.json(status, view(route)).withHeader("ETag", "\"" + route.revision() + "\"");
    }

    /** The route key of the path, after the token was checked against its tenant. */
    private RouteKey authorizedKey(ApiRequest request) {
        Principal principal = authenticator.authenticate(request);
        principal.requireTenant(request.pathParam(0));
        return ApiException.validInput(() ->
                new RouteKey(request.pathParam(0), request.pathParam(1), request.pathParam(2), request.pathParam(3)));
    }

    private static String validUrl(String url) {
        return ApiException.validInput(() -> UpstreamUrl.require(url));
    }

    private static String name(String field, String value) {
        return ApiException.validInput(() -> Names.require(field, value));
    }

    private static String optionalName(ApiRequest request, String field) {
        String value = request.queryParam(field);
        return value == null ? null : name(field, value);
    }

    private static Boolean optionalBoolean(ApiRequest request, String field) {
        String value = request.queryParam(field);
        if (value == null) {
            return null;
        }
        return switch (value) {
            case "true" -> Boolean.TRUE;
            case "false" -> Boolean.FALSE;
            default -> throw ApiException.badRequest("invalid_query", field + ": " + value + " (expected: true or false)");
        };
    }

    private static int limit(String value) {
        if (value == null) {
            return DEFAULT_LIMIT;
        }
        try {
            int limit = Integer.parseInt(value);
            if (limit >= 1 && limit <= MAX_LIMIT) {
                return limit;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw ApiException.badRequest("invalid_query", "limit: " + value + " (expected: 1 to " + MAX_LIMIT + ")");
    }

    private static long cursor(String value) {
        if (value == null) {
            return 0;
        }
        try {
            long afterId = Long.parseLong(new String(Base64.getUrlDecoder().decode(value), StandardCharsets.US_ASCII));
            if (afterId >= 0) {
                return afterId;
            }
        } catch (IllegalArgumentException e) {
            // reported below
        }
        throw ApiException.badRequest("invalid_cursor", "cursor: " + value + " (expected: a nextCursor from a listing)");
    }

    private static String encodeCursor(long afterId) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(Long.toString(afterId).getBytes(StandardCharsets.US_ASCII));
    }

    /**
     * The revision a write expects: {@code If-Match: 3} or {@code If-Match: "3"}, 0 for
     * {@code If-None-Match: *} (create only: 412 when it exists, even deactivated), null when neither.
     */
    public static Long ifMatch(ApiRequest request) {
        String value = request.ifMatch();
        String noneMatch = request.ifNoneMatch();
        if (noneMatch != null) {
            if (value != null || !noneMatch.trim().equals("*")) {
                throw ApiException.badRequest("invalid_if_match", "If-None-Match: " + noneMatch
                        + (value != null ? " with If-Match" : "") + " (expected: If-None-Match: * alone, to create only)");
            }
            return 0L;
        }
        if (value == null) {
            return null;
        }
        String digits = value.trim();
        if (digits.length() >= 2 && digits.startsWith("\"") && digits.endsWith("\"")) {
            digits = digits.substring(1, digits.length() - 1);
        }
        try {
            long revision = Long.parseLong(digits);
            if (revision >= 1) {
                return revision;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw ApiException.badRequest("invalid_if_match", "If-Match: " + value + " (expected: a revision such as \"3\")");
    }

    static RouteView view(Route route) {
        RouteOptions options = route.options();
        ObjectNode json = TrafficJson.toJson(options);
        return new RouteView(route.key().tenant(), route.key().service(), route.key().env(), route.key().version(),
                route.url(), json == null ? null : json.get("endpoints"), route.protocol().wireName(),
                options.timeoutMs() == 0 ? null : options.timeoutMs(), json == null ? null : json.get("retries"),
                route.active(), route.revision(), route.createdAt().toString(), route.updatedAt().toString());
    }

    /**
     * The JSON shape of a route: {@code url} is the first endpoint's when endpoints are listed;
     * {@code endpoints}, {@code timeoutMs} and {@code retries} are null when not set.
     */
    public record RouteView(String tenant, String service, String env, String version, String url,
                            @JsonInclude(JsonInclude.Include.NON_NULL) JsonNode endpoints, String protocol,
                            @JsonInclude(JsonInclude.Include.NON_NULL) Integer timeoutMs,
                            @JsonInclude(JsonInclude.Include.NON_NULL) JsonNode retries, boolean active,
                            long revision, String createdAt, String updatedAt) {
    }
}
