package dev.trafficmanager.proxy.balancing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trafficmanager.proxy.ProxyConfig;
import dev.trafficmanager.proxy.lookup.RouteEntry;
import dev.trafficmanager.proxy.metrics.ProxyMetrics;
import dev.trafficmanager.route.Endpoint;
import dev.trafficmanager.route.RouteOptions;
import dev.trafficmanager.route.RouteProtocol;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Ejection on a hand-driven clock: its threshold, its growing and capped length, its decay, and the half it never passes. */
class BalancerTest {
    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final ProxyMetrics metrics = new ProxyMetrics();
    private final Balancer balancer = new Balancer(new ProxyConfig.Balancing(5, Duration.ofSeconds(30), 50), metrics, now::get);

    private static RouteEntry route(int endpoints) {
        List<Endpoint> list = java.util.stream.IntStream.range(0, endpoints)
                .mapToObj(i -> new Endpoint("http://10.0.0." + (i + 1) + ":8080/api", 1)).toList();
        return RouteEntry.found("t/s/e/v1", list.get(0).url(), true, 1, 1, RouteProtocol.AUTO, RouteOptions.of(list));
    }

    private void fail(RouteEntry entry, int index, int times) {
        for (int i = 0; i < times; i++) {
            balancer.record(entry, index, false);
        }
    }

    private void advance(long seconds) {
        now.addAndGet(TimeUnit.SECONDS.toNanos(seconds));
    }

    @Test
    void ejectionsGrowAreCappedAndDecayWhileTheEndpointIsHealthy() {
        RouteEntry entry = route(4);
        fail(entry, 0, 4);
        assertThat(balancer.ejected(entry, 0)).as("four failures are not five").isFalse();
        fail(entry, 0, 1);
        assertThat(balancer.ejected(entry, 0)).isTrue();
        advance(29);
        assertThat(balancer.ejected(entry, 0)).isTrue();
        advance(1);
        assertThat(balancer.ejected(entry, 0)).as("back after 30 s").isFalse();
        balancer.pick(entry, 0); // notices the return
        fail(entry, 0, 5);
        advance(59);
        assertThat(balancer.ejected(entry, 0)).as("the second ejection lasts 60 s").isTrue();
        advance(1);
        assertThat(balancer.ejected(entry, 0)).isFalse();
        for (int i = 0; i < 20; i++) { // ejected again and again: never longer than 300 s
            balancer.pick(entry, 0);
            fail(entry, 0, 5);
            advance(300);
            assertThat(balancer.ejected(entry, 0)).as("ejection %d", i + 3).isFalse();
        }
        // Healthy for a while: each base time back forgets one ejection, so the next one is short again.
        balancer.pick(entry, 0);
        for (int i = 0; i < 30; i++) {
            advance(30);
            balancer.record(entry, 0, true);
        }
        fail(entry, 0, 5);
        advance(31);
        assertThat(balancer.ejected(entry, 0)).as("after a long healthy spell, 30 s again").isFalse();
        assertThat(metrics.registry().get("tm_endpoint_returns").counter().count()).isPositive();
    }

    @Test
    void neverMoreThanHalfOfARoutesEndpointsAreOutAndPicksAvoidTheOnesOut() {
        RouteEntry entry = route(4);
        fail(entry, 0, 5);
        fail(entry, 1, 5);
        fail(entry, 2, 5);
        assertThat(balancer.ejected(entry, 0)).isTrue();
        assertThat(balancer.ejected(entry, 1)).isTrue();
        assertThat(balancer.ejected(entry, 2)).as("a third of four would be more than half").isFalse();
        assertThat(metrics.registry().get("tm_endpoint_ejections_capped").counter().count()).isEqualTo(1);
        for (int i = 0; i < 200; i++) {
            assertThat(balancer.pick(entry, 0)).isIn(2, 3);
        }
        assertThat(balancer.pick(entry, 1L << 2)).as("a tried endpoint is avoided while another is left").isEqualTo(3);
    }

    @Test
    void picksFollowTheLoadInFlightAndEveryStartIsFinished() {
        RouteEntry entry = route(2);
        Object busy = balancer.started(entry, 0);
        Object busier = balancer.started(entry, 0);
        for (int i = 0; i < 100; i++) {
            assertThat(balancer.pick(entry, 0)).as("the idle endpoint wins the two choices").isEqualTo(1);
        }
        balancer.finished(busy);
        balancer.finished(busier);
        assertThat(balancer.inFlight(entry, 0)).isZero();
    }
}
