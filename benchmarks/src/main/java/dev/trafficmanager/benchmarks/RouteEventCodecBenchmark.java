package dev.trafficmanager.benchmarks;

import dev.trafficmanager.route.RouteEvent;
import dev.trafficmanager.route.RouteEventCodec;
import dev.trafficmanager.route.RouteEventType;
import dev.trafficmanager.route.RouteKey;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/** Encoding and decoding one route event, the unit of work of the relay and the sidecar's consumer. */
@State(Scope.Thread)
public class RouteEventCodecBenchmark extends BenchmarkBase {
    private RouteEvent event;
    private byte[] encoded;

    @Setup
    public void setUp() {
        event = new RouteEvent(RouteEventType.UPDATED, new RouteKey("team-a", "payments", "prod", "v2"),
                "http://payments-v2.team-a.svc.cluster.local:8080/api", true, 42, 1_790_000_000_000L);
        encoded = RouteEventCodec.encode(event);
    }

    @Benchmark
    public byte[] encode() {
        return RouteEventCodec.encode(event);
    }

    @Benchmark
    public RouteEvent decode() {
        return RouteEventCodec.decode(encoded);
    }
}
