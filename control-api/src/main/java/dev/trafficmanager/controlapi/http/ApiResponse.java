package dev.trafficmanager.controlapi.http;

import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.Map;

/**
 * A response an endpoint returns: a status, a body (serialized as JSON unless it is a
 * {@link Raw}) and extra headers.
 */
public record ApiResponse(HttpResponseStatus status, Object body, Map<String, String> headers) {

    public static ApiResponse json(HttpResponseStatus status, Object body) {
        return new ApiResponse(status, body, Map.of());
    }

    public ApiResponse withHeader(String name, String value) {
        java.util.Map<String, String> all = new java.util.LinkedHashMap<>(headers);
        all.put(name, value);
        return new ApiResponse(status, body, Map.copyOf(all));
    }

    /** A body sent as it is, with its content type. */
    public record Raw(byte[] bytes, String contentType) {
    }
}
