package dev.trafficmanager.proxy;

import dev.trafficmanager.proxy.agent.AgentClient;
import dev.trafficmanager.proxy.events.RouteEventConsumer;
import dev.trafficmanager.proxy.lookup.L1Store;
import dev.trafficmanager.proxy.lookup.PostgresRouteSource;
import dev.trafficmanager.proxy.lookup.RedisRouteCache;
import dev.trafficmanager.proxy.lookup.Resolver;
import dev.trafficmanager.proxy.lookup.RouteCache;
import dev.trafficmanager.proxy.lookup.RouteSource;
import dev.trafficmanager.proxy.metrics.ProxyMetrics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where routes come from, in one of two shapes. With the stores (a standalone sidecar, or the node
 * agent): the L1 file it writes, Redis, PostgreSQL and the Kafka consumer of its tenants' partitions.
 * Through the node agent (a sidecar in node mode): the L1 file the agent writes, read only, and the
 * agent's socket for misses; no connection to Kafka, Redis or PostgreSQL at all.
 */
public final class RouteTiers implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RouteTiers.class);

    private final String topic;
    private final L1Store l1;
    private final RouteCache redis;
    private final RouteSource source;
    private final Resolver resolver;
    /** Null through the agent. */
    private final RouteEventConsumer events;
    /** Null with the stores. */
    private final AgentClient agent;

    private RouteTiers(String topic, L1Store l1, RouteCache redis, RouteSource source, Resolver resolver,
                       RouteEventConsumer events, AgentClient agent) {
        this.topic = topic;
        this.l1 = l1;
        this.redis = redis;
        this.source = source;
        this.resolver = resolver;
        this.events = events;
        this.agent = agent;
    }

    /** L1 written here, Redis, PostgreSQL and Kafka: a standalone sidecar or the node agent. */
    public static RouteTiers withStores(ProxyConfig config, ProxyMetrics metrics, LongSupplier clock) {
        L1Store l1 = L1Store.open(config.l1File(), config.l1MaxEntries());
        // A quarter of the lookup budget for Redis: a hung Redis must leave time to ask PostgreSQL.
        Duration redisTimeout = Duration.ofMillis(Math.max(20, config.lookup().timeout().toMillis() / 4));
        RouteCache redis = config.redisEnabled() ? new RedisRouteCache(config.redisUrl(), redisTimeout) : RouteCache.NONE;
        RouteSource postgres = new PostgresRouteSource(config.dbUrl(), config.dbUser(), config.dbPassword(),
                config.dbPoolSize(), config.lookup().timeout(), clock);
        Resolver resolver = new Resolver(l1, config.nearCacheEntries(), redis, postgres, config.lookup(), metrics, clock);
        RouteEventConsumer events = new RouteEventConsumer(config.kafkaBootstrap(), config.kafkaClient(), config.topic(),
                config.tenants().named(), resolver, metrics);
        return new RouteTiers(config.topic(), l1, redis, postgres, resolver, events, null);
    }

    /** The node agent's L1 file, read only, and its socket: a sidecar in node mode. */
    public static RouteTiers throughAgent(ProxyConfig config, Path socket, ProxyMetrics metrics, LongSupplier clock) {
        L1Store l1 = L1Store.open(config.l1File(), config.l1MaxEntries());
        AgentClient agent = new AgentClient(socket, config.lookup().timeout(), metrics);
        Resolver resolver = new Resolver(l1, false, config.nearCacheEntries(), RouteCache.NONE, agent, config.lookup(),
                metrics, clock);
        return new RouteTiers(config.topic(), l1, RouteCache.NONE, agent, resolver, null, agent);
    }

    public Resolver resolver() {
        return resolver;
    }

    public L1Store l1() {
        return l1;
    }

    /** Whether this process talks to Kafka, Redis and PostgreSQL itself (false in node mode). */
    public boolean usesStores() {
        return agent == null;
    }

    /** Why traffic should not come yet (catching up with Kafka, or the agent never reached), or null. */
    public String notReady() {
        if (events != null && !events.caughtUp()) {
            return "catching up with " + topic + " (lag " + events.lag() + ")";
        }
        if (agent != null && !agent.everConnected()) {
            return "waiting for the node agent at " + agent.socket();
        }
        return null;
    }

    /** Why a background thread died (the L1 writer, the Kafka consumer), or null. */
    public String unhealthy() {
        String writer = resolver.failure();
        return writer != null || events == null ? writer : events.failure();
    }

    @Override
    public void close() {
        if (events != null) {
            events.close();
        }
        boolean writerStopped = resolver.close();
        redis.close();
        source.close();
        if (writerStopped) {
            l1.close();
        } else {
            log.warn("the L1 writer did not stop in time; leaving the L1 file to the process exit");
        }
    }
}
