package dev.trafficmanager.proxy.resilience;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RetryPolicyTest {
    private final RetryPolicy policy = new RetryPolicy(2, Duration.ofMillis(25), Duration.ofMillis(250), 20, 3);

    @Test
    void atMostMaxRetriesPerRequest() {
        assertThat(policy.tryStart(1, () -> 0)).isTrue();
        policy.finished();
        assertThat(policy.tryStart(2, () -> 0)).isTrue();
        policy.finished();
        assertThat(policy.tryStart(3, () -> 0)).isFalse();
        assertThat(policy.budget().active()).isZero();
    }

    @Test
    void theBudgetIsTheMinimumOrAShareOfTheRequestsInFlight() {
        for (int i = 0; i < 3; i++) {
            assertThat(policy.tryStart(1, () -> 1)).as("within the minimum of 3").isTrue();
        }
        assertThat(policy.tryStart(1, () -> 1)).isFalse();
        assertThat(policy.tryStart(1, () -> 20)).as("20 % of 20 in flight is 4").isTrue();
        assertThat(policy.tryStart(1, () -> 20)).isFalse();
        policy.finished();
        assertThat(policy.tryStart(1, () -> 20)).isTrue();
        assertThat(policy.budget().active()).isEqualTo(4);
    }

    @Test
    void theBackoffIsFullJitterUnderACappedExponential() {
        SplittableRandom random = new SplittableRandom(7);
        long[] ceilings = {25, 50, 100, 200, 250, 250};
        for (int retry = 1; retry <= ceilings.length; retry++) {
            long ceiling = Duration.ofMillis(ceilings[retry - 1]).toNanos();
            long max = 0;
            long min = Long.MAX_VALUE;
            for (int i = 0; i < 2_000; i++) {
                long wait = policy.backoffNanos(retry, random);
                assertThat(wait).isBetween(0L, ceiling);
                max = Math.max(max, wait);
                min = Math.min(min, wait);
            }
            // spread over the whole range, not clustered at the top as a plain exponential backoff would be
            assertThat(min).as("retry %d", retry).isLessThan(ceiling / 10);
            assertThat(max).as("retry %d", retry).isGreaterThan(ceiling * 9 / 10);
        }
    }
}
