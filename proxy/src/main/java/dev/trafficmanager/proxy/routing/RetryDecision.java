package dev.trafficmanager.proxy.routing;

/**
 * What to do after an upstream attempt failed before any response: give up, connect again at once
 * (the keep-alive race: a pooled connection the upstream closed just as it was reused), or try again
 * after a backoff (a connection that could not be made). Every retry holds a place in the retry
 * budget from this decision until the retry starts ({@link UpstreamAttempts#perform}).
 */
record RetryDecision(Kind kind, long delayNanos) {
    /** FALL_BACK_TO_HTTP1: the request again over HTTP/1.1, at once; not a retry of the same attempt, so outside the budget. */
    enum Kind { GIVE_UP, RECONNECT_NOW, RETRY_AFTER_BACKOFF, FALL_BACK_TO_HTTP1 }

    static final RetryDecision GIVE_UP = new RetryDecision(Kind.GIVE_UP, 0);

    boolean retries() {
        return kind != Kind.GIVE_UP;
    }
}
