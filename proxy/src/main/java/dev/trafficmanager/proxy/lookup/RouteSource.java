package dev.trafficmanager.proxy.lookup;

import dev.trafficmanager.proxy.metrics.ProxyMetrics.Tier;
import java.util.concurrent.CompletionStage;

/** L3: the source of truth (PostgreSQL). Implementations never block the caller. */
public interface RouteSource extends AutoCloseable {

    /**
     * The route's current state confirmed now: a found entry, or a negative one when no such route
     * exists. Fails when the source cannot answer.
     */
    CompletionStage<RouteEntry> fetch(String key);

    /** The tier it is, for metrics and messages: PostgreSQL, or the node agent in node mode. */
    default Tier tier() {
        return Tier.POSTGRES;
    }

    @Override
    void close();
}
