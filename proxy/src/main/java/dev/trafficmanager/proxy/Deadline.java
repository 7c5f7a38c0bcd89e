package dev.trafficmanager.proxy;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A timeout that is armed far more often than it fires (every request arms the response timeout
 * and the connection's idle timeout), without scheduling and cancelling a task each time: one task,
 * scheduled only when none is pending, checks the deadline when it runs and waits again for what is
 * left. Disarming costs nothing. Confined to one event loop; the timeout length must not shrink
 * between arms (a pending task must never run after the deadline).
 */
public final class Deadline implements Runnable {
    private final EventExecutor executor;
    private Runnable onExpiry; // null: disarmed
    private long deadlineNanos;
    private ScheduledFuture<?> pending;

    public Deadline(EventExecutor executor) {
        this.executor = executor;
    }

    /** Runs {@code onExpiry} once {@code timeoutNanos} from now, unless re-armed or disarmed first. */
    public void arm(long timeoutNanos, Runnable onExpiry) {
        this.onExpiry = onExpiry;
        deadlineNanos = System.nanoTime() + timeoutNanos;
        if (pending == null) {
            pending = executor.schedule(this, timeoutNanos, TimeUnit.NANOSECONDS);
        }
    }

    public void disarm() {
        onExpiry = null;
    }

    /** Whether {@code owner} is what runs at the deadline. */
    public boolean armedFor(Runnable owner) {
        return onExpiry == owner;
    }

    /** Disarms and drops the pending task (the connection is gone). */
    public void close() {
        onExpiry = null;
        if (pending != null) {
            pending.cancel(false);
            pending = null;
        }
    }

    @Override
    public void run() {
        pending = null;
        Runnable action = onExpiry;
        if (action == null) {
            return;
        }
        long left = deadlineNanos - System.nanoTime();
        if (left > 0) {
            pending = executor.schedule(this, left, TimeUnit.NANOSECONDS);
        } else {
            onExpiry = null;
            action.run();
        }
    }
}
