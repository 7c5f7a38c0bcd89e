package dev.trafficmanager.proxy.resilience;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import java.util.random.RandomGenerator;

/**
 * When and how soon a request that never reached its upstream is tried again: at most
 * {@code maxRetries} times, after an exponential backoff with full jitter (a random wait between
 * 0 and {@code base × 2^(retry-1)}, capped), and only while the retry budget allows: retries
 * waiting or in flight may be at most {@code budgetPercent} % of the requests in flight, or
 * {@code minConcurrent}, whichever is more. The budget is what keeps a failing upstream from
 * turning every request into three (Envoy's retry budget works the same way).
 *
 * <p>Thread-safe; nothing here runs unless a request failed.
 *
 * @param maxRetries     TM_UPSTREAM_RETRIES, default 2; 0 turns retries off
 * @param base           TM_UPSTREAM_RETRY_BACKOFF_MS, default 25
 * @param cap            TM_UPSTREAM_RETRY_BACKOFF_MAX_MS, default 250
 * @param budgetPercent  TM_UPSTREAM_RETRY_BUDGET_PERCENT, default 20
 * @param minConcurrent  TM_UPSTREAM_RETRY_MIN_CONCURRENT, default 3
 */
public record RetryPolicy(int maxRetries, Duration base, Duration cap, int budgetPercent, int minConcurrent,
                          Budget budget) {

    public RetryPolicy(int maxRetries, Duration base, Duration cap, int budgetPercent, int minConcurrent) {
        this(maxRetries, base, cap, budgetPercent, minConcurrent, new Budget());
    }

    /** Retries waiting for their backoff or connecting now. */
    public static final class Budget {
        private final AtomicInteger active = new AtomicInteger();

        public int active() {
            return active.get();
        }
    }

    /**
     * Takes a place in the budget for retry number {@code retry} (1 for the first) of a request,
     * with {@code inFlight} requests in flight; false when the retry must not happen. A true answer
     * must be matched by {@link #finished()}.
     */
    public boolean tryStart(int retry, LongSupplier inFlight) {
        return tryStart(retry, maxRetries, inFlight);
    }

    /** The same with a route's own limit of {@code max} retries instead of {@link #maxRetries}. */
    public boolean tryStart(int retry, int max, LongSupplier inFlight) {
        return retry <= max && tryReserve(inFlight);
    }

    /**
     * Takes a place in the budget for a retry that {@link #maxRetries} does not limit (the keep-alive
     * race's one reconnection); false when the budget is spent. A true answer must be matched by
     * {@link #finished()}.
     */
    public boolean tryReserve(LongSupplier inFlight) {
        long allowed = Math.max(minConcurrent, inFlight.getAsLong() * budgetPercent / 100);
        while (true) {
            int now = budget.active.get();
            if (now >= allowed) {
                return false;
            }
            if (budget.active.compareAndSet(now, now + 1)) {
                return true;
            }
        }
    }

    public void finished() {
        budget.active.decrementAndGet();
    }

    /** The wait before retry number {@code retry}: uniform in [0, min(cap, base × 2^(retry-1))]. */
    public long backoffNanos(int retry, RandomGenerator random) {
        long ceiling = Math.min(cap.toNanos(), base.toNanos() << Math.min(retry - 1, 20));
        return ceiling <= 0 ? 0 : random.nextLong(ceiling + 1);
    }
}
