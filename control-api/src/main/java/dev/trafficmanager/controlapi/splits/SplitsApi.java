package dev.trafficmanager.controlapi.splits;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.trafficmanager.controlapi.auth.Authenticator;
import dev.trafficmanager.controlapi.http.ApiException;
import dev.trafficmanager.controlapi.http.ApiRequest;
import dev.trafficmanager.controlapi.http.ApiResponse;
import dev.trafficmanager.controlapi.http.Json;
import dev.trafficmanager.controlapi.http.Router;
import dev.trafficmanager.controlapi.routes.RoutesApi;
import dev.trafficmanager.route.Names;
import dev.trafficmanager.route.Split;
import dev.trafficmanager.route.SplitKey;
import dev.trafficmanager.route.TrafficJson;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.Map;
import java.util.Set;

/**
 * The {@code /v1/splits} endpoints, checked in the routes' order: the path, the token (401), the
 * tenant (403), then the input (400).
 */
public final class SplitsApi {
    private static final String SPLIT = "/v1/splits/{tenant}/{service}/{env}";
    private static final Set<String> FIELDS = Set.of("weights", "stickyHeader", "stickyCookie");

    private final SplitStore store;
    private final Authenticator authenticator;
    private final Json json;
    private final Runnable afterWrite;

    /** @param afterWrite runs after each committed change (wakes the outbox relay) */
    public SplitsApi(SplitStore store, Authenticator authenticator, Json json, Runnable afterWrite) {
        this.store = store;
        this.authenticator = authenticator;
        this.json = json;
        this.afterWrite = afterWrite;
    }

    public void register(Router router) {
        router.add(HttpMethod.PUT, SPLIT, this::put)
                .add(HttpMethod.GET, SPLIT, request -> withEtag(store.get(authorizedKey(request)), HttpResponseStatus.OK))
                .add(HttpMethod.DELETE, SPLIT, request -> written(store.delete(authorizedKey(request),
                        RoutesApi.ifMatch(request)), HttpResponseStatus.OK))
                .add(HttpMethod.GET, SPLIT + "/history", this::history)
                .add(HttpMethod.GET, "/v1/splits/{tenant}", this::list);
    }

    private ApiResponse put(ApiRequest request) {
        SplitKey key = authorizedKey(request);
        ObjectNode body = json.readFields(request.body(), FIELDS);
        Split split = ApiException.validInput(() -> TrafficJson.split(body));
        SplitStore.SplitChange change = store.put(key, split, RoutesApi.ifMatch(request));
        return written(change, change.created() ? HttpResponseStatus.CREATED : HttpResponseStatus.OK);
    }

    private ApiResponse history(ApiRequest request) {
        SplitKey key = authorizedKey(request);
        return ApiResponse.json(HttpResponseStatus.OK, Map.of("split", key.toString(), "items", store.history(key)));
    }

    private ApiResponse list(ApiRequest request) {
        String tenant = request.pathParam(0);
        authenticator.authenticate(request).requireTenant(tenant);
        ApiException.validInput(() -> Names.require("tenant", tenant));
        return ApiResponse.json(HttpResponseStatus.OK,
                Map.of("items", store.list(tenant).stream().map(SplitsApi::view).toList()));
    }

    private ApiResponse written(SplitStore.SplitChange change, HttpResponseStatus status) {
        if (change.changed()) {
            afterWrite.run();
        }
        return withEtag(change.split(), status);
    }

    private static ApiResponse withEtag(SplitState split, HttpResponseStatus status) {
        return ApiResponse.json(status, view(split)).withHeader("ETag", "\"" + split.revision() + "\"");
    }

    private SplitKey authorizedKey(ApiRequest request) {
        authenticator.authenticate(request).requireTenant(request.pathParam(0));
        return ApiException.validInput(() -> new SplitKey(request.pathParam(0), request.pathParam(1), request.pathParam(2)));
    }

    static SplitView view(SplitState split) {
        return new SplitView(split.key().tenant(), split.key().service(), split.key().env(),
                TrafficJson.weights(split.split()), split.split().stickyHeader(), split.split().stickyCookie(),
                split.active(), split.revision(), split.createdAt().toString(), split.updatedAt().toString());
    }

    /** The JSON shape of a split; {@code active} false once deleted. */
    public record SplitView(String tenant, String service, String env, JsonNode weights, String stickyHeader,
                            String stickyCookie, boolean active, long revision, String createdAt, String updatedAt) {
    }
}
