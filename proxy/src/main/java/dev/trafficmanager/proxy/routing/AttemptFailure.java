package dev.trafficmanager.proxy.routing;

/** Why an upstream attempt produced no response: what {@link UpstreamAttempts#decide} weighs. */
enum AttemptFailure {
    /** No connection could be made (refused, timed out, unresolvable). */
    CONNECT_FAILED,
    /** A connection was made (or reused) and closed before any response head came back. */
    CLOSED_BEFORE_RESPONSE,
    /** An HTTP/2 connection's upstream answered the preface with something else: it does not speak h2c. */
    NOT_HTTP2
}
