package dev.trafficmanager.proxy.routing;

import dev.trafficmanager.proxy.upstream.UpstreamPool;
import dev.trafficmanager.route.RouteProtocol;

/** Why an upstream attempt produced no response: what {@link UpstreamAttempts#decide} weighs. */
enum AttemptFailure {
    /** No connection could be made (refused, timed out, unresolvable). */
    CONNECT_FAILED,
    /** A connection was made (or reused) and closed before any response head came back. */
    CLOSED_BEFORE_RESPONSE,
    /** An HTTP/2 connection's upstream answered the preface with something else: it does not speak h2c. */
    NOT_HTTP2,
    /** The upstream refused the stream (GOAWAY past it, or RST_STREAM REFUSED_STREAM): it processed nothing. */
    REFUSED,
    /** The upstream answered 502, 503 or 504: retried only when the route's retries cover gateway-error. */
    GATEWAY_ERROR;

    /** Why a channel closed before any response, from the cause its pool gave ({@code auto} routes alone fall back). */
    static AttemptFailure closed(Throwable cause, RouteProtocol protocol) {
        if (cause instanceof UpstreamPool.Refused) {
            return REFUSED;
        }
        return cause instanceof UpstreamPool.NotHttp2 && protocol == RouteProtocol.AUTO ? NOT_HTTP2 : CLOSED_BEFORE_RESPONSE;
    }
}
