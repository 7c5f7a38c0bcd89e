package dev.trafficmanager.proxy.routing;

import dev.trafficmanager.proxy.Deadline;
import io.netty.util.concurrent.EventExecutor;
import java.time.Duration;

/**
 * A client connection's response timeout: armed by the exchange in flight from its request's last
 * progress until the response head, on one {@link Deadline} per connection (re-armed, never
 * rescheduled per request). Confined to the connection's event loop.
 */
final class ResponseTimeout {
    private final Deadline deadline;
    private final Duration timeout;

    ResponseTimeout(EventExecutor executor, Duration timeout) {
        this.deadline = new Deadline(executor);
        this.timeout = timeout;
    }

    /** {@code onExpiry} runs once the timeout has passed from now, unless re-armed or cancelled first. */
    void arm(Runnable onExpiry) {
        arm(onExpiry, 0);
    }

    /** The same after {@code nanos} instead of the connection's timeout (0: the connection's). */
    void arm(Runnable onExpiry, long nanos) {
        deadline.arm(nanos > 0 ? nanos : timeout.toNanos(), onExpiry);
    }

    /** Disarms the timeout if {@code owner} armed it last (null: never armed). */
    void cancel(Runnable owner) {
        if (owner != null && deadline.armedFor(owner)) {
            deadline.disarm();
        }
    }

    long millis() {
        return timeout.toMillis();
    }

    /** The connection is gone. */
    void close() {
        deadline.close();
    }
}
