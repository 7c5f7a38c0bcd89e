package dev.trafficmanager.proxy.lookup;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * L2 in Redis through lettuce's asynchronous API, cache-aside: the sidecar reads it on an L1 miss
 * and writes what PostgreSQL answered, with a TTL; route events delete keys. Commands fail at once
 * while Redis is disconnected (instead of queueing) and time out after the lookup timeout, so a
 * lost Redis costs a lookup nothing but a fall-through to PostgreSQL. Keys are
 * {@code tm:route:<tenant/service/env/version>}.
 */
public final class RedisRouteCache implements RouteCache {
    private static final Logger log = LoggerFactory.getLogger(RedisRouteCache.class);

    static {
        // With Netty's io_uring on the class path (TM_PROXY_TRANSPORT) lettuce warns at every client
        // that it prefers epoll; it keeps epoll either way, so say so once here instead.
        if (System.getProperty("io.lettuce.core.iouring") == null) {
            System.setProperty("io.lettuce.core.iouring", "false");
        }
    }
    /** Changes with {@link EntryCodec}'s format, so two releases never read each other's values. */
    public static final String PREFIX = "tm:route:2:";
    private static final RedisCodec<String, byte[]> CODEC = RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE);

    private final ClientResources resources;
    private final RedisClient client;
    private final RedisURI uri;
    private final ScheduledExecutorService connector;
    private volatile StatefulRedisConnection<String, byte[]> connection;
    private volatile boolean closed;

    /** {@code timeout} bounds each command; give it a part of the lookup timeout, so a hung Redis
     * leaves time to ask PostgreSQL. */
    public RedisRouteCache(String url, Duration timeout) {
        this.uri = RedisURI.create(url);
        uri.setTimeout(timeout);
        // Lettuce's default reconnect backoff grows to 30 s; capped at 1 s, a Redis back from an
        // outage is used again within a second or two.
        this.resources = DefaultClientResources.builder()
                .reconnectDelay(Delay.exponential(Duration.ofMillis(10), Duration.ofSeconds(1), 2, TimeUnit.MILLISECONDS))
                .build();
        this.client = RedisClient.create(resources, uri);
        client.setOptions(ClientOptions.builder()
                .autoReconnect(true)
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .timeoutOptions(TimeoutOptions.enabled(timeout))
                .socketOptions(SocketOptions.builder().connectTimeout(timeout).build())
                .build());
        this.connector = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "redis-connect");
            t.setDaemon(true);
            return t;
        });
        connect();
    }

    /** Connects in the background; until then (and while lettuce reconnects) every get fails fast. */
    private void connect() {
        if (closed) {
            return;
        }
        client.connectAsync(CODEC, uri).whenComplete((c, error) -> {
            if (error == null) {
                connection = c;
                log.info("connected to Redis at {}:{}", uri.getHost(), uri.getPort());
            } else if (!closed) {
                log.debug("Redis at {}:{} not reachable yet: {}", uri.getHost(), uri.getPort(), error.toString());
                connector.schedule(this::connect, 1, TimeUnit.SECONDS);
            }
        });
    }

    @Override
    public CompletionStage<RouteEntry> get(String key) {
        StatefulRedisConnection<String, byte[]> c = connection;
        if (c == null) {
            return CompletableFuture.failedFuture(new IllegalStateException("Redis is not connected"));
        }
        return c.async().get(PREFIX + key)
                .thenApply(bytes -> EntryCodec.decodeCached(key, bytes));
    }

    @Override
    public void put(RouteEntry entry, long ttlMillis) {
        StatefulRedisConnection<String, byte[]> c = connection;
        if (c != null && ttlMillis > 0) {
            c.async().psetex(PREFIX + entry.key(), ttlMillis, EntryCodec.encode(entry))
                    .exceptionally(error -> {
                        log.debug("cannot cache route {} in Redis: {}", entry.key(), error.toString());
                        return null;
                    });
        }
    }

    @Override
    public void delete(String key) {
        StatefulRedisConnection<String, byte[]> c = connection;
        if (c != null) {
            c.async().del(PREFIX + key).exceptionally(error -> {
                // The entry expires by its TTL; every sidecar's L1 is guarded by revision meanwhile.
                log.debug("cannot drop route {} from Redis: {}", key, error.toString());
                return null;
            });
        }
    }

    @Override
    public void close() {
        closed = true;
        connector.shutdownNow();
        StatefulRedisConnection<String, byte[]> c = connection;
        if (c != null) {
            c.close();
        }
        client.shutdown(0, 2, TimeUnit.SECONDS);
        resources.shutdown(0, 2, TimeUnit.SECONDS);
    }
}
