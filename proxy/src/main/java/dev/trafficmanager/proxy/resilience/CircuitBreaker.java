package dev.trafficmanager.proxy.resilience;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * A circuit breaker for one dependency: Redis, PostgreSQL or one upstream. Closed, it lets every
 * call through and opens on {@code consecutiveFailures} failures in a row, or when at least
 * {@code minimumCalls} calls in a window saw {@code failureRatePercent} % or more fail. Open, it
 * refuses calls for {@code openFor}; then it is half-open and lets one probe call through at a
 * time: a success closes it, a failure opens it again.
 *
 * <p>Thread-safe and lock-free, and it allocates nothing: a closed breaker costs a volatile read per
 * call and, for a success, one counter increment. Every permitted call must end in exactly one of
 * {@link #onSuccess()}, {@link #onFailure()} or {@link #onAbandoned()} (a call that ended without
 * telling either way, such as a client that left), or a half-open breaker would wait for its probe
 * forever.
 *
 * <p>The error-rate window starts at the first failure after the previous window ended, so a
 * success needs no clock read: the rate is that of the calls since that failure.
 */
public final class CircuitBreaker {

    /**
     * @param consecutiveFailures TM_BREAKER_FAILURES, default 5: failures in a row that open the
     *                            breaker; 0: only the error rate counts
     * @param failureRatePercent  TM_BREAKER_FAILURE_RATE, default 50: the error rate that opens it;
     *                            0: only consecutive failures count
     * @param minimumCalls        TM_BREAKER_MIN_CALLS, default 20: calls in a window before its rate counts
     * @param window              TM_BREAKER_WINDOW_MS, default 10000
     * @param openFor             TM_BREAKER_OPEN_MS, default 2000: how long it refuses calls before a probe
     */
    public record Settings(int consecutiveFailures, int failureRatePercent, int minimumCalls, Duration window,
                           Duration openFor) {
        public boolean enabled() {
            return consecutiveFailures > 0 || failureRatePercent > 0;
        }
    }

    public enum State { CLOSED, OPEN, HALF_OPEN }

    /** Told of every change of state, on the thread of the call that caused it. */
    public interface Listener {
        void changed(CircuitBreaker breaker, State from, State to);
    }

    private static final int CLOSED = 0;
    private static final int OPEN = 1;
    private static final int HALF_OPEN = 2;
    private static final State[] STATES = State.values();

    private final String name;
    private final Settings settings;
    private final LongSupplier nanoClock;
    private final Listener listener;
    private final long openForNanos;
    private final long windowNanos;
    private final AtomicInteger state = new AtomicInteger(CLOSED);
    private final AtomicInteger consecutive = new AtomicInteger();
    private final AtomicInteger windowCalls = new AtomicInteger();
    private final AtomicInteger windowFailures = new AtomicInteger();
    private final AtomicBoolean probing = new AtomicBoolean();
    private volatile long windowStart;
    private volatile long openedAt;

    public CircuitBreaker(String name, Settings settings, LongSupplier nanoClock, Listener listener) {
        this.name = name;
        this.settings = settings;
        this.nanoClock = nanoClock;
        this.listener = listener;
        this.openForNanos = settings.openFor().toNanos();
        this.windowNanos = settings.window().toNanos();
        this.windowStart = nanoClock.getAsLong() - windowNanos; // the first failure starts a window
    }

    public String name() {
        return name;
    }

    public State state() {
        return STATES[state.get()];
    }

    /** Whether a call may go ahead now; if so, it must report how it ended. */
    public boolean tryAcquire() {
        int s = state.get();
        if (s == CLOSED) {
            return true;
        }
        if (s == OPEN) {
            if (nanoClock.getAsLong() - openedAt < openForNanos) {
                return false;
            }
            if (state.compareAndSet(OPEN, HALF_OPEN)) {
                listener.changed(this, State.OPEN, State.HALF_OPEN);
            }
        }
        // Half-open: one probe at a time. The state is read again once the probe is ours: a probe
        // that ended meanwhile may have closed the breaker, or opened it, which frees the probe.
        if (!probing.compareAndSet(false, true)) {
            return false;
        }
        int now = state.get();
        if (now != HALF_OPEN) {
            probing.set(false);
            return now == CLOSED;
        }
        return true;
    }

    public void onSuccess() {
        int s = state.get();
        if (s == CLOSED) {
            if (consecutive.get() != 0) { // no write to a shared line while all is well
                consecutive.set(0);
            }
            windowCalls.incrementAndGet();
        } else if (s == HALF_OPEN && state.compareAndSet(HALF_OPEN, CLOSED)) {
            consecutive.set(0);
            windowStart = nanoClock.getAsLong() - windowNanos;
            probing.set(false);
            listener.changed(this, State.HALF_OPEN, State.CLOSED);
        }
    }

    public void onFailure() {
        int s = state.get();
        if (s == HALF_OPEN) {
            open(HALF_OPEN);
            return;
        }
        if (s != CLOSED) {
            return;
        }
        boolean trip = settings.consecutiveFailures() > 0 && consecutive.incrementAndGet() >= settings.consecutiveFailures();
        if (settings.failureRatePercent() > 0) {
            long now = nanoClock.getAsLong();
            if (now - windowStart >= windowNanos) {
                windowStart = now;
                windowCalls.set(0);
                windowFailures.set(0);
            }
            int calls = windowCalls.incrementAndGet();
            int failures = windowFailures.incrementAndGet();
            trip |= calls >= settings.minimumCalls() && failures * 100L >= (long) settings.failureRatePercent() * calls;
        }
        if (trip) {
            open(CLOSED);
        }
    }

    /** A permitted call ended without an outcome that says anything about the dependency. */
    public void onAbandoned() {
        if (state.get() == HALF_OPEN) {
            probing.set(false);
        }
    }

    private void open(int from) {
        openedAt = nanoClock.getAsLong();
        if (state.compareAndSet(from, OPEN)) {
            probing.set(false);
            windowCalls.set(0);
            windowFailures.set(0);
            windowStart = openedAt - windowNanos;
            listener.changed(this, STATES[from], State.OPEN);
        }
    }

    @Override
    public String toString() {
        return name + " " + state();
    }
}
