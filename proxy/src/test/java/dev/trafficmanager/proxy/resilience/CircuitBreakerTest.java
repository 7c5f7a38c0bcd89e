package dev.trafficmanager.proxy.resilience;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trafficmanager.proxy.resilience.CircuitBreaker.State;
import dev.trafficmanager.testing.Poll;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class CircuitBreakerTest {
    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    private final List<String> changes = new ArrayList<>();

    private CircuitBreaker breaker(int consecutive, int ratePercent, int minimumCalls) {
        return new CircuitBreaker("test", new CircuitBreaker.Settings(consecutive, ratePercent, minimumCalls,
                Duration.ofSeconds(10), Duration.ofSeconds(2)), nanos::get, (b, from, to) -> changes.add(from + ">" + to));
    }

    private void advanceMillis(long millis) {
        nanos.addAndGet(TimeUnit.MILLISECONDS.toNanos(millis));
    }

    private static void fail(CircuitBreaker breaker, int times) {
        for (int i = 0; i < times; i++) {
            assertThat(breaker.tryAcquire()).isTrue();
            breaker.onFailure();
        }
    }

    @Test
    void opensOnConsecutiveFailuresOnlyAndASuccessStartsTheCountAgain() {
        CircuitBreaker breaker = breaker(3, 0, 1);
        fail(breaker, 2);
        breaker.tryAcquire();
        breaker.onSuccess();
        fail(breaker, 2);
        assertThat(breaker.state()).isEqualTo(State.CLOSED);
        fail(breaker, 1);
        assertThat(breaker.state()).isEqualTo(State.OPEN);
        assertThat(breaker.tryAcquire()).isFalse();
        assertThat(changes).containsExactly("CLOSED>OPEN");
    }

    @Test
    void opensOnTheErrorRateOnceAWindowHasEnoughCalls() {
        CircuitBreaker breaker = breaker(0, 50, 10);
        fail(breaker, 1); // starts the window
        for (int i = 0; i < 5; i++) {
            breaker.tryAcquire();
            breaker.onSuccess();
            fail(breaker, 1);
        }
        // 11 calls, 6 failed: over 50 % with at least 10 calls
        assertThat(breaker.state()).isEqualTo(State.OPEN);
    }

    @Test
    void failuresOfAnEndedWindowDoNotCount() {
        CircuitBreaker breaker = breaker(0, 50, 4);
        fail(breaker, 3);
        advanceMillis(10_000);
        fail(breaker, 1); // a new window: 1 call
        for (int i = 0; i < 3; i++) {
            breaker.tryAcquire();
            breaker.onSuccess();
        }
        assertThat(breaker.state()).isEqualTo(State.CLOSED);
    }

    @Test
    void halfOpenAfterTheOpenTimeLetsOneProbeThroughAndItsSuccessCloses() {
        CircuitBreaker breaker = breaker(2, 0, 1);
        fail(breaker, 2);
        advanceMillis(1_999);
        assertThat(breaker.tryAcquire()).isFalse();
        advanceMillis(1);
        assertThat(breaker.tryAcquire()).as("the probe").isTrue();
        assertThat(breaker.state()).isEqualTo(State.HALF_OPEN);
        assertThat(breaker.tryAcquire()).as("a second call while the probe runs").isFalse();
        breaker.onSuccess();
        assertThat(breaker.state()).isEqualTo(State.CLOSED);
        assertThat(breaker.tryAcquire()).isTrue();
        assertThat(changes).containsExactly("CLOSED>OPEN", "OPEN>HALF_OPEN", "HALF_OPEN>CLOSED");
    }

    @Test
    void aFailedProbeOpensAgainForTheWholeOpenTime() {
        CircuitBreaker breaker = breaker(2, 0, 1);
        fail(breaker, 2);
        advanceMillis(2_000);
        assertThat(breaker.tryAcquire()).isTrue();
        breaker.onFailure();
        assertThat(breaker.state()).isEqualTo(State.OPEN);
        advanceMillis(1_999);
        assertThat(breaker.tryAcquire()).isFalse();
        advanceMillis(1);
        assertThat(breaker.tryAcquire()).isTrue();
    }

    @Test
    void anAbandonedProbeLetsTheNextCallProbe() {
        CircuitBreaker breaker = breaker(1, 0, 1);
        fail(breaker, 1);
        advanceMillis(2_000);
        assertThat(breaker.tryAcquire()).isTrue();
        assertThat(breaker.tryAcquire()).isFalse();
        breaker.onAbandoned();
        assertThat(breaker.tryAcquire()).isTrue();
        assertThat(breaker.state()).isEqualTo(State.HALF_OPEN);
    }

    @Test
    void withBothTriggersOffItNeverOpens() {
        CircuitBreaker breaker = breaker(0, 0, 1);
        fail(breaker, 1_000);
        assertThat(breaker.state()).isEqualTo(State.CLOSED);
        assertThat(changes).isEmpty();
    }

    @Test
    void underConcurrentCallsItNeverStaysStuckAndClosesOnceCallsSucceed() throws Exception {
        AtomicInteger opened = new AtomicInteger();
        CircuitBreaker breaker = new CircuitBreaker("stress", new CircuitBreaker.Settings(3, 50, 10,
                Duration.ofMillis(50), Duration.ofMillis(1)), System::nanoTime, (b, from, to) -> {
                    if (to == State.OPEN) {
                        opened.incrementAndGet();
                    }
                });
        AtomicBoolean healthy = new AtomicBoolean();
        AtomicBoolean stop = new AtomicBoolean();
        Runnable caller = () -> {
            SplittableRandom random = new SplittableRandom();
            while (!stop.get()) {
                if (breaker.tryAcquire()) {
                    Thread.yield(); // the call
                    int outcome = random.nextInt(10);
                    if (healthy.get() || outcome < 4) {
                        breaker.onSuccess();
                    } else if (outcome < 9) {
                        breaker.onFailure();
                    } else {
                        breaker.onAbandoned();
                    }
                }
            }
        };
        Thread[] threads = new Thread[4];
        for (int i = 0; i < threads.length; i++) {
            threads[i] = new Thread(caller);
            threads[i].start();
        }
        try {
            Poll.until(Duration.ofSeconds(10), "the failing calls to open the breaker again and again",
                    () -> opened.get() >= 20);
            healthy.set(true); // the dependency recovers while the calls go on
            Poll.until(Duration.ofSeconds(10), "the breaker closed once every call succeeds (1 ms open time)",
                    () -> breaker.state() == State.CLOSED);
        } finally {
            stop.set(true);
            for (Thread thread : threads) {
                thread.join();
            }
        }
    }
}
