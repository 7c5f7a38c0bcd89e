package dev.trafficmanager.controlapi.http;

import dev.trafficmanager.route.InvalidRouteException;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.Map;
import java.util.function.Supplier;

/** An error the API reports as {@code {"error": code, "message": ...}} with {@link #status()}. */
public final class ApiException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final transient HttpResponseStatus status;
    private final String code;
    private final transient Map<String, String> headers;

    public ApiException(HttpResponseStatus status, String code, String message) {
        this(status, code, message, null, Map.of());
    }

    public ApiException(HttpResponseStatus status, String code, String message, Throwable cause) {
        this(status, code, message, cause, Map.of());
    }

    private ApiException(HttpResponseStatus status, String code, String message, Throwable cause,
                         Map<String, String> headers) {
        super(message, cause);
        this.status = status;
        this.code = code;
        this.headers = headers;
    }

    /** The same error with a response header, such as {@code Allow} on a 405. */
    public ApiException withHeader(String name, String value) {
        Map<String, String> all = new java.util.LinkedHashMap<>(headers);
        all.put(name, value);
        return new ApiException(status, code, getMessage(), getCause(), Map.copyOf(all));
    }

    public Map<String, String> headers() {
        return headers;
    }

    public HttpResponseStatus status() {
        return status;
    }

    public String code() {
        return code;
    }

    public static ApiException badRequest(String code, String message) {
        return new ApiException(HttpResponseStatus.BAD_REQUEST, code, message);
    }

    /** Runs a route-model check, turning its {@link InvalidRouteException} into a 400 with the same code. */
    public static <T> T validInput(Supplier<T> check) {
        try {
            return check.get();
        } catch (InvalidRouteException e) {
            throw badRequest(e.code(), e.getMessage());
        }
    }

    public static ApiException notFound(String code, String message) {
        return new ApiException(HttpResponseStatus.NOT_FOUND, code, message);
    }
}
