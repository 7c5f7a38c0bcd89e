package dev.trafficmanager.controlapi.http;

import dev.trafficmanager.route.InvalidRouteException;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.function.Supplier;

/** An error the API reports as {@code {"error": code, "message": ...}} with {@link #status()}. */
public final class ApiException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final transient HttpResponseStatus status;
    private final String code;

    public ApiException(HttpResponseStatus status, String code, String message) {
        super(message);
        this.status = status;
        this.code = code;
    }

    public ApiException(HttpResponseStatus status, String code, String message, Throwable cause) {
        super(message, cause);
        this.status = status;
        this.code = code;
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
