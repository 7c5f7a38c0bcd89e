package dev.trafficmanager.proxy.routing;

import dev.trafficmanager.proxy.Deadline;
import io.netty.util.concurrent.EventExecutor;

/**
 * An exchange's deadlines. Usually the response timeout: armed from the request's last progress to
 * the response head, on the client connection's one {@link ResponseTimeout} (re-armed, never
 * rescheduled). A gRPC call with {@code grpc-timeout} has the call's deadline instead, from the call's
 * start to its end, streaming included. Confined to the exchange's event loop.
 */
final class ExchangeDeadlines {
    private final ResponseTimeout responseTimeout;
    private final Runnable onResponseTimeout;
    private final long callNanos;
    private long routeNanos; // the route's own response timeout, or 0 for the connection's
    private Deadline call;

    /** {@code callNanos}: the call's grpc-timeout, or 0 for none. */
    ExchangeDeadlines(ResponseTimeout responseTimeout, Runnable onResponseTimeout, long callNanos) {
        this.responseTimeout = responseTimeout;
        this.onResponseTimeout = onResponseTimeout;
        this.callNanos = callNanos;
    }

    /** The call starts: its deadline (if it has one) runs from now. */
    void startCall(EventExecutor executor, Runnable onCallDeadline) {
        if (callNanos > 0 && call == null) {
            call = new Deadline(executor);
            call.arm(callNanos, onCallDeadline);
        }
    }

    /** The route's response timeout ({@code timeoutMs}), instead of TM_UPSTREAM_RESPONSE_TIMEOUT_MS; 0 keeps that. */
    void useTimeout(int millis) {
        routeNanos = millis * 1_000_000L;
    }

    /** The request made progress: the response timeout counts from now (not for a call with its own deadline). */
    void armResponse() {
        if (callNanos == 0) {
            responseTimeout.arm(onResponseTimeout, routeNanos);
        }
    }

    void cancelResponse() {
        responseTimeout.cancel(onResponseTimeout);
    }

    /** For an error message: how long the client was willing to wait. */
    String describe() {
        return callNanos > 0 ? "the call's grpc-timeout of " + callNanos / 1_000_000 + " ms"
                : (routeNanos > 0 ? routeNanos / 1_000_000 + " ms (the route's timeoutMs)" : responseTimeout.millis() + " ms");
    }

    /** The exchange ended: nothing fires any more. */
    void close() {
        cancelResponse();
        if (call != null) {
            call.close();
        }
    }
}
