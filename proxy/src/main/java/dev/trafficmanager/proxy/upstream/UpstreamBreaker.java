package dev.trafficmanager.proxy.upstream;

import dev.trafficmanager.proxy.resilience.CircuitBreaker;
import io.micrometer.core.instrument.Counter;

/**
 * The circuit breaker of one pool (upstream, protocol and event loop) and the counter of the
 * requests it refused: what both kinds of pool ask before they give out a channel.
 */
record UpstreamBreaker(CircuitBreaker breaker, Counter rejections) {

    /**
     * Whether the breaker lets a request through now (counted when it does not). A true answer must
     * be followed by exactly one report to {@link #breaker()}.
     */
    boolean admit() {
        if (breaker.tryAcquire()) {
            return true;
        }
        rejections.increment();
        return false;
    }
}
