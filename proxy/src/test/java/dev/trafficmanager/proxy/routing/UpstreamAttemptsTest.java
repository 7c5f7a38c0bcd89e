package dev.trafficmanager.proxy.routing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trafficmanager.proxy.ProxyConfig;
import dev.trafficmanager.proxy.balancing.Balancer;
import dev.trafficmanager.proxy.lookup.RouteEntry;
import dev.trafficmanager.proxy.metrics.ProxyMetrics;
import dev.trafficmanager.route.RetryOn;
import dev.trafficmanager.route.RouteOptions;
import dev.trafficmanager.route.RouteProtocol;
import dev.trafficmanager.route.RouteRetries;
import java.util.EnumSet;
import java.util.List;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpMethod;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The one retry decision for both retry paths: when it retries, how, and that both spend the budget. */
class UpstreamAttemptsTest {
    private final ProxyMetrics metrics = new ProxyMetrics();
    // Three retries at most in flight (TM_UPSTREAM_RETRY_MIN_CONCURRENT; nothing else is in flight).
    private final ProxyConfig config = ProxyConfig.fromEnv(Map.of("TM_TENANT", "team", "TM_ENV", "prod",
            "TM_UPSTREAM_RETRY_MIN_CONCURRENT", "3", "TM_UPSTREAM_RETRIES", "2"));
    private final ProxyServices services = new ProxyServices(null, null, null, metrics, new Drain(), config.upstream(),
            config.clientLimits(), TenantBulkhead.OFF, new Balancer(config.upstream().balancing(), metrics, System::nanoTime));

    private UpstreamAttempts attempts(HttpMethod method) {
        return new UpstreamAttempts(services, method);
    }

    @Test
    void aRefusedConnectionIsRetriedAfterABackoffForIdempotentRequestsOnly() {
        RetryDecision get = attempts(HttpMethod.GET).decide(AttemptFailure.CONNECT_FAILED, false, false, false);
        assertThat(get.kind()).isEqualTo(RetryDecision.Kind.RETRY_AFTER_BACKOFF);
        assertThat(get.delayNanos()).isBetween(0L, TimeUnit.MILLISECONDS.toNanos(25));
        assertThat(attempts(HttpMethod.POST).decide(AttemptFailure.CONNECT_FAILED, false, false, false))
                .isEqualTo(RetryDecision.GIVE_UP);
        assertThat(metrics.upstreamRetries().count()).isEqualTo(1);
    }

    @Test
    void aRefusedConnectionIsRetriedAtMostTheConfiguredTimes() {
        UpstreamAttempts one = attempts(HttpMethod.GET);
        EmbeddedChannel loop = new EmbeddedChannel();
        AtomicInteger started = new AtomicInteger();
        for (int i = 0; i < 2; i++) {
            RetryDecision decision = one.decide(AttemptFailure.CONNECT_FAILED, false, false, false);
            assertThat(decision.retries()).isTrue();
            one.perform(decision, loop.eventLoop(), started::incrementAndGet);
            loop.advanceTimeBy(1, TimeUnit.SECONDS);
            loop.runScheduledPendingTasks();
        }
        assertThat(started).hasValue(2);
        assertThat(one.decide(AttemptFailure.CONNECT_FAILED, false, false, false)).isEqualTo(RetryDecision.GIVE_UP);
        assertThat(config.upstream().retry().budget().active()).isZero();
        loop.finishAndReleaseAll();
    }

    @Test
    void theKeepAliveRaceReconnectsAtOnceOnlyOnAReusedConnectionAndOnlyOnce() {
        UpstreamAttempts get = attempts(HttpMethod.GET);
        assertThat(get.decide(AttemptFailure.CLOSED_BEFORE_RESPONSE, false, false, false)).isEqualTo(RetryDecision.GIVE_UP);
        RetryDecision race = get.decide(AttemptFailure.CLOSED_BEFORE_RESPONSE, false, false, true);
        assertThat(race.kind()).isEqualTo(RetryDecision.Kind.RECONNECT_NOW);
        AtomicInteger started = new AtomicInteger();
        get.perform(race, new EmbeddedChannel().eventLoop(), started::incrementAndGet);
        assertThat(started).hasValue(1);
        assertThat(get.raceRetried()).isTrue();
        assertThat(get.decide(AttemptFailure.CLOSED_BEFORE_RESPONSE, false, false, true)).isEqualTo(RetryDecision.GIVE_UP);
        // A POST only when its head never left: the upstream cannot have seen it.
        assertThat(attempts(HttpMethod.POST).decide(AttemptFailure.CLOSED_BEFORE_RESPONSE, false, false, true))
                .isEqualTo(RetryDecision.GIVE_UP);
        assertThat(attempts(HttpMethod.POST).decide(AttemptFailure.CLOSED_BEFORE_RESPONSE, false, true, true).kind())
                .isEqualTo(RetryDecision.Kind.RECONNECT_NOW);
    }

    @Test
    void aRetryOfAnOutsideHostOrAOneUrlRouteStaysOnItsUpstream() {
        UpstreamAttempts outside = attempts(HttpMethod.GET); // no route: an outside host passed through
        RetryDecision decision = outside.decide(AttemptFailure.CONNECT_FAILED, false, false, false);
        AtomicInteger started = new AtomicInteger();
        outside.retry(decision, null, null, "/x", target -> null, started::incrementAndGet).run();
        assertThat(started).hasValue(1);
        assertThat(outside.balanced()).isFalse();
        config.upstream().retry().finished();
    }

    @Test
    void aRouteOwnRetriesReplaceTheDefaultWithTheirAttemptsAndConditions() {
        RouteEntry gateway = RouteEntry.found("t/s/e/v1", "http://a:1/", true, 1, 1, RouteProtocol.AUTO,
                new RouteOptions(List.of(), 0, new RouteRetries(1, EnumSet.of(RetryOn.GATEWAY_ERROR))));
        UpstreamAttempts get = attempts(HttpMethod.GET);
        get.useRoute(gateway);
        assertThat(get.decide(AttemptFailure.CONNECT_FAILED, false, false, false)).as("not covered: no retry")
                .isEqualTo(RetryDecision.GIVE_UP);
        RetryDecision first = get.decide(AttemptFailure.GATEWAY_ERROR, false, false, false);
        assertThat(first.kind()).isEqualTo(RetryDecision.Kind.RETRY_AFTER_BACKOFF);
        assertThat(get.resending()).as("the request goes out again, its end with it").isTrue();
        config.upstream().retry().finished();
        assertThat(get.decide(AttemptFailure.GATEWAY_ERROR, false, false, false)).as("one attempt only")
                .isEqualTo(RetryDecision.GIVE_UP);
        UpstreamAttempts post = attempts(HttpMethod.POST);
        post.useRoute(gateway);
        assertThat(post.decide(AttemptFailure.GATEWAY_ERROR, false, false, false)).as("never a POST")
                .isEqualTo(RetryDecision.GIVE_UP);
        UpstreamAttempts plain = attempts(HttpMethod.GET);
        plain.useRoute(RouteEntry.found("t/s/e/v1", "http://a:1/", true, 1, 1));
        assertThat(plain.decide(AttemptFailure.GATEWAY_ERROR, false, false, false)).as("no retries on gateway errors by default")
                .isEqualTo(RetryDecision.GIVE_UP);
    }

    @Test
    void aRouteRetryingResetsStillReconnectsOnceAtOnceAfterTheKeepAliveRace() {
        RouteEntry resets = RouteEntry.found("t/s/e/v1", "http://a:1/", true, 1, 1, RouteProtocol.AUTO,
                new RouteOptions(List.of(), 0, new RouteRetries(2, EnumSet.of(RetryOn.RESET))));
        UpstreamAttempts post = attempts(HttpMethod.POST);
        post.useRoute(resets);
        assertThat(post.decide(AttemptFailure.CLOSED_BEFORE_RESPONSE, false, true, true).kind())
                .as("a POST whose head never left a reused connection").isEqualTo(RetryDecision.Kind.RECONNECT_NOW);
        UpstreamAttempts get = attempts(HttpMethod.GET);
        get.useRoute(resets);
        assertThat(get.decide(AttemptFailure.CLOSED_BEFORE_RESPONSE, false, false, false).kind())
                .as("a fresh connection reset: the route's retry").isEqualTo(RetryDecision.Kind.RETRY_AFTER_BACKOFF);
    }

    @Test
    void anExchangeThatEndedDuringABackoffTakesNoEndpoint() {
        List<dev.trafficmanager.route.Endpoint> endpoints = List.of(new dev.trafficmanager.route.Endpoint("http://a:1/", 1),
                new dev.trafficmanager.route.Endpoint("http://b:1/", 1));
        RouteEntry balanced = RouteEntry.found("t/s/e/v1", "http://a:1/", true, 1, 1, RouteProtocol.AUTO, RouteOptions.of(endpoints));
        UpstreamAttempts get = attempts(HttpMethod.GET);
        get.useRoute(balanced);
        RetryDecision decision = get.decide(AttemptFailure.CONNECT_FAILED, false, false, false);
        get.close(); // the client went away while the retry waited
        AtomicInteger started = new AtomicInteger();
        get.retry(decision, null, null, "/x", target -> null, started::incrementAndGet).run();
        assertThat(services.balancer().inFlight(balanced, 0) + services.balancer().inFlight(balanced, 1))
                .as("nothing left in flight").isZero();
        config.upstream().retry().finished();
    }

    @Test
    void nothingIsRetriedOnceABodyByteWasSent() {
        for (AttemptFailure failure : AttemptFailure.values()) {
            assertThat(attempts(HttpMethod.PUT).decide(failure, true, true, true)).as(failure.name())
                    .isEqualTo(RetryDecision.GIVE_UP);
        }
        assertThat(metrics.upstreamRetries().count()).isZero();
    }

    @Test
    void bothKindsOfRetrySpendTheOneBudget() {
        // Three backoff retries decided and not yet started fill the budget of three...
        for (int i = 0; i < 3; i++) {
            assertThat(attempts(HttpMethod.GET).decide(AttemptFailure.CONNECT_FAILED, false, false, false).retries()).isTrue();
        }
        assertThat(config.upstream().retry().budget().active()).isEqualTo(3);
        // ...so neither kind may retry until one of them starts.
        assertThat(attempts(HttpMethod.GET).decide(AttemptFailure.CONNECT_FAILED, false, false, false))
                .isEqualTo(RetryDecision.GIVE_UP);
        assertThat(attempts(HttpMethod.GET).decide(AttemptFailure.CLOSED_BEFORE_RESPONSE, false, false, true))
                .isEqualTo(RetryDecision.GIVE_UP);
        config.upstream().retry().finished();
        assertThat(attempts(HttpMethod.GET).decide(AttemptFailure.CLOSED_BEFORE_RESPONSE, false, false, true).kind())
                .isEqualTo(RetryDecision.Kind.RECONNECT_NOW);
        assertThat(metrics.upstreamRetries().count()).isEqualTo(4);
    }
}
