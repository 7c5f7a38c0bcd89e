package dev.trafficmanager.controlapi.http;

import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * What an endpoint needs of a request, copied off the Netty message on the event loop so the
 * message can be released at once and the endpoint can run on a worker thread.
 *
 * @param ifNoneMatch the If-None-Match header: {@code *} asks that the resource not exist yet
 * @param pathParams the values of the {@code {name}} segments of the matched route, in order
 * @param client     the peer's IP address (for the failed-authentication limit)
 * @param forwardedFor the X-Forwarded-For headers' values joined by commas, or null; believed only
 *                   from a trusted proxy (see {@code ClientAddresses})
 */
public record ApiRequest(HttpMethod method, String path, Map<String, List<String>> query,
                         String authorization, String ifMatch, String ifNoneMatch, String body, List<String> pathParams, String client,
                         String forwardedFor) {

    private static final String X_FORWARDED_FOR = "x-forwarded-for";

    static ApiRequest from(FullHttpRequest request, String client) {
        QueryStringDecoder uri = new QueryStringDecoder(request.uri());
        return new ApiRequest(request.method(), uri.rawPath(), uri.parameters(),
                request.headers().get(HttpHeaderNames.AUTHORIZATION),
                request.headers().get(HttpHeaderNames.IF_MATCH),
                request.headers().get(HttpHeaderNames.IF_NONE_MATCH),
                request.content().toString(StandardCharsets.UTF_8),
                List.of(), client,
                request.headers().contains(X_FORWARDED_FOR) ? String.join(",", request.headers().getAll(X_FORWARDED_FOR)) : null);
    }

    ApiRequest withPathParams(List<String> params) {
        return new ApiRequest(method, path, query, authorization, ifMatch, ifNoneMatch, body, params, client, forwardedFor);
    }

    public String pathParam(int index) {
        return pathParams.get(index);
    }

    /** The single value of a query parameter, or {@code null}; a repeated parameter is a 400. */
    public String queryParam(String name) {
        List<String> values = query.get(name);
        if (values == null || values.isEmpty()) {
            return null;
        }
        if (values.size() > 1) {
            throw ApiException.badRequest("invalid_query", name + ": given " + values.size()
                    + " times (expected: once)");
        }
        return values.get(0);
    }
}
