package dev.trafficmanager.http;

import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;

/**
 * A request refused before it reached its handler: the status, our error code and a message, the
 * same on the proxy port and the control API. A malformed request always closes its connection,
 * lingering ({@link LingeringClose}): its framing is in doubt and the client may still be sending.
 */
public record HttpRefusal(HttpResponseStatus status, String code, String message) {
    public static final String BAD_REQUEST = "bad_request";
    public static final String URI_TOO_LONG = "uri_too_long";
    public static final String HEADERS_TOO_LARGE = "headers_too_large";
    public static final String BODY_TOO_LARGE = "body_too_large";

    /**
     * What a request the codec could not decode gets: 414 {@code uri_too_long} for an oversized
     * request line, 431 {@code headers_too_large} for oversized headers, 413 {@code body_too_large}
     * for a body over an aggregator's limit, and 400 {@code bad_request} for everything else
     * (smuggling attempts, broken chunks, invalid names and values).
     */
    public static HttpRefusal malformed(Throwable cause) {
        String detail = "malformed request: " + cause.getMessage();
        if (cause instanceof TooLongHttpLineException) {
            return new HttpRefusal(HttpResponseStatus.REQUEST_URI_TOO_LONG, URI_TOO_LONG, detail);
        }
        if (cause instanceof TooLongHttpHeaderException) {
            return new HttpRefusal(HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, HEADERS_TOO_LARGE, detail);
        }
        if (cause instanceof TooLongFrameException) {
            return new HttpRefusal(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, BODY_TOO_LARGE, detail);
        }
        return badRequest(detail);
    }

    /** 400 {@code bad_request}: for a part that broke after the head was accepted (a broken chunk). */
    public static HttpRefusal badRequest(String what) {
        return new HttpRefusal(HttpResponseStatus.BAD_REQUEST, BAD_REQUEST, what);
    }

    /** 413 {@code body_too_large}: {@code what} says how large, and the limit. */
    public static HttpRefusal bodyTooLarge(String what) {
        return new HttpRefusal(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, BODY_TOO_LARGE, what);
    }

    /** 431 {@code headers_too_large}: {@code what} says how many or how large, and the limit. */
    public static HttpRefusal headersTooLarge(String what) {
        return new HttpRefusal(HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, HEADERS_TOO_LARGE, what);
    }
}
