package dev.trafficmanager.proxy.lookup;

import dev.trafficmanager.proxy.ProxyConfig;
import dev.trafficmanager.proxy.metrics.ProxyMetrics;
import dev.trafficmanager.proxy.resilience.CircuitBreaker;
import io.micrometer.core.instrument.Counter;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * A remote lookup tier (Redis or PostgreSQL) behind its {@link CircuitBreaker}: a call goes through
 * only when the breaker lets it, and its outcome is reported back. Thread-safe.
 */
final class GuardedTier {
    /** A call refused by an open breaker; without a stack trace: it is an outcome, and shared. */
    static final RuntimeException BREAKER_OPEN = new RuntimeException("circuit breaker open", null, false, false) {
    };

    private final CircuitBreaker breaker;
    private final Counter rejections;
    private final Function<String, CompletionStage<RouteEntry>> call;

    /** {@code clock} in milliseconds: the breaker keeps the TTLs' time, so tests can move both. */
    GuardedTier(String name, ProxyConfig.Lookup settings, LongSupplier clock, ProxyMetrics metrics,
                Function<String, CompletionStage<RouteEntry>> call) {
        ProxyMetrics.Breakers breakers = metrics.breakers(name);
        this.breaker = new CircuitBreaker(name, settings.breaker(), () -> TimeUnit.MILLISECONDS.toNanos(clock.getAsLong()),
                breakers.listener());
        this.rejections = breakers.rejections();
        this.call = call;
    }

    /** The tier's answer for {@code key}, or {@link #BREAKER_OPEN} at once while the breaker is open. */
    CompletionStage<RouteEntry> get(String key) {
        if (!breaker.tryAcquire()) {
            return CompletableFuture.failedFuture(BREAKER_OPEN);
        }
        CompletionStage<RouteEntry> result;
        try {
            result = call.apply(key);
        } catch (RuntimeException e) {
            breaker.onFailure();
            throw e;
        }
        return result.whenComplete((entry, error) -> {
            // A value that does not decode is an answer: the tier works, its data is bad.
            if (error == null || unwrap(error) instanceof RouteCache.InvalidEntry) {
                breaker.onSuccess();
            } else {
                breaker.onFailure();
            }
        });
    }

    /** Whether {@code error} is the breaker's refusal (then counted). */
    boolean refused(Throwable error) {
        if (error == BREAKER_OPEN) {
            rejections.increment();
            return true;
        }
        return false;
    }

    CircuitBreaker.State state() {
        return breaker.state();
    }

    static Throwable unwrap(Throwable error) {
        return error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    }
}
