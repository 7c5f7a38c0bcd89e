package dev.trafficmanager.proxy.routing;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * What the sidecar does differently for a gRPC call ({@code content-type: application/grpc...}):
 * its own errors are trailers-only responses (HTTP 200, {@code grpc-status}, {@code grpc-message}),
 * and {@code grpc-timeout} is the call's deadline. The status of each of our error codes is the
 * table in the README; what is not in it follows gRPC's HTTP-to-gRPC status mapping.
 */
final class Grpc {
    static final AsciiString GRPC_STATUS = AsciiString.cached("grpc-status");
    static final AsciiString GRPC_MESSAGE = AsciiString.cached("grpc-message");
    static final AsciiString GRPC_TIMEOUT = AsciiString.cached("grpc-timeout");
    private static final AsciiString APPLICATION_GRPC = AsciiString.cached("application/grpc");

    static final int INVALID_ARGUMENT = 3;
    static final int DEADLINE_EXCEEDED = 4;
    static final int PERMISSION_DENIED = 7;
    static final int RESOURCE_EXHAUSTED = 8;
    static final int UNIMPLEMENTED = 12;
    static final int INTERNAL = 13;
    static final int UNAVAILABLE = 14;
    static final int UNAUTHENTICATED = 16;
    static final int UNKNOWN = 2;

    private Grpc() {
    }

    /** Whether the request is a gRPC call: {@code application/grpc}, {@code application/grpc+proto}... */
    static boolean isCall(HttpHeaders headers) {
        String type = headers.get(HttpHeaderNames.CONTENT_TYPE);
        return type != null && type.regionMatches(true, 0, "application/grpc", 0, 16)
                && (type.length() == 16 || type.charAt(16) == '+' || type.charAt(16) == ';');
    }

    /** The gRPC status for one of our error responses. */
    static int status(HttpResponseStatus http, String code) {
        switch (code) {
            case "upstream_timeout":
                return DEADLINE_EXCEEDED;
            case "route_not_found":
                return UNIMPLEMENTED;
            case "tenant_forbidden":
            case "outbound_forbidden":
                return PERMISSION_DENIED;
            case "body_too_large":
            case "headers_too_large":
            case "tenant_overloaded":
                return RESOURCE_EXHAUSTED;
            default:
                break;
        }
        int c = http.code();
        if (c == 400 || c == 414 || c == 431) {
            return INVALID_ARGUMENT; // bad route headers and other malformed requests
        }
        if (c == 401) {
            return UNAUTHENTICATED;
        }
        if (c == 403) {
            return PERMISSION_DENIED;
        }
        if (c == 404) {
            return UNIMPLEMENTED;
        }
        if (c == 429 || c == 502 || c == 503 || c == 504) {
            return UNAVAILABLE;
        }
        return c >= 500 ? INTERNAL : UNKNOWN;
    }

    /**
     * A trailers-only error response: one HEADERS frame with END_STREAM over HTTP/2. The message is
     * {@code <code>: <message>}, percent-encoded as gRPC asks.
     */
    static FullHttpResponse error(HttpResponseStatus http, String code, String message) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                Unpooled.EMPTY_BUFFER);
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, APPLICATION_GRPC)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, 0) // framed for an HTTP/1.1 client too
                .setInt(GRPC_STATUS, status(http, code))
                .set(GRPC_MESSAGE, percentEncode(code + ": " + message));
        return response;
    }

    /** gRPC's percent-encoding of grpc-message: printable ASCII except '%' as is, every other UTF-8 byte as %XX. */
    static String percentEncode(String message) {
        StringBuilder out = new StringBuilder(message.length());
        for (byte b : message.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if (c >= 0x20 && c <= 0x7e && c != '%') {
                out.append((char) c);
            } else {
                out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
            }
        }
        return out.toString();
    }

    /**
     * The call's deadline from {@code grpc-timeout} ({@code 1-8 digits} and a unit of H, M, S, m, u
     * or n), in nanoseconds; 0 when absent or malformed (the route's response timeout applies then).
     */
    static long timeoutNanos(HttpHeaders headers) {
        String value = headers.get(GRPC_TIMEOUT);
        if (value == null || value.length() < 2 || value.length() > 9) {
            return 0;
        }
        long amount = 0;
        for (int i = 0; i < value.length() - 1; i++) {
            char d = value.charAt(i);
            if (d < '0' || d > '9') {
                return 0;
            }
            amount = amount * 10 + (d - '0');
        }
        TimeUnit unit;
        switch (value.charAt(value.length() - 1)) {
            case 'H' -> unit = TimeUnit.HOURS;
            case 'M' -> unit = TimeUnit.MINUTES;
            case 'S' -> unit = TimeUnit.SECONDS;
            case 'm' -> unit = TimeUnit.MILLISECONDS;
            case 'u' -> unit = TimeUnit.MICROSECONDS;
            case 'n' -> unit = TimeUnit.NANOSECONDS;
            default -> {
                return 0;
            }
        }
        return Math.max(1, unit.toNanos(amount));
    }
}
