package dev.trafficmanager.proxy.resilience;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trafficmanager.proxy.resilience.CircuitBreaker.State;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
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
        CircuitBreaker breaker = new CircuitBreaker("stress", new CircuitBreaker.Settings(3, 50, 10,
                Duration.ofMillis(50), Duration.ofMillis(1)), System::nanoTime, (b, from, to) -> { });
        java.util.concurrent.atomic.AtomicBoolean healthy = new java.util.concurrent.atomic.AtomicBoolean();
        Runnable caller = () -> {
            java.util.SplittableRandom random = new java.util.SplittableRandom();
            long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(600);
            while (System.nanoTime() < end) {
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
        Thread.sleep(300);
        healthy.set(true); // the dependency recovers while the calls go on
        for (Thread thread : threads) {
            thread.join();
        }
        assertThat(breaker.state()).as("closed after 300 ms of successes with a 1 ms open time").isEqualTo(State.CLOSED);
    }
}
