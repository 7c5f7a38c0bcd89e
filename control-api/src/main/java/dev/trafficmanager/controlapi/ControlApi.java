package dev.trafficmanager.controlapi;

import dev.trafficmanager.controlapi.auth.Authenticator;
import dev.trafficmanager.controlapi.auth.Tokens;
import dev.trafficmanager.controlapi.db.Database;
import dev.trafficmanager.controlapi.http.ApiResponse;
import dev.trafficmanager.controlapi.metrics.ApiMetrics;
import dev.trafficmanager.controlapi.http.ControlApiInitializer;
import dev.trafficmanager.controlapi.http.HttpServer;
import dev.trafficmanager.controlapi.http.Json;
import dev.trafficmanager.controlapi.http.Router;
import dev.trafficmanager.controlapi.outbox.OutboxRelay;
import dev.trafficmanager.controlapi.outbox.TopicSetup;
import dev.trafficmanager.controlapi.routes.RouteStore;
import dev.trafficmanager.controlapi.routes.RoutesApi;
import dev.trafficmanager.controlapi.splits.SplitStore;
import dev.trafficmanager.controlapi.splits.SplitsApi;
import dev.trafficmanager.controlapi.tenants.TenantsApi;
import dev.trafficmanager.migrations.Migrations;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The control API wired together by hand: database, migrations, endpoints, outbox relay, server. */
public final class ControlApi implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ControlApi.class);
    /**
     * How long the relay waits for Kafka to acknowledge a wave of sends: longer than the producer's
     * delivery timeout (10 s), so the producer has always settled every send by then.
     */
    private static final Duration SEND_TIMEOUT = Duration.ofSeconds(12);

    private final Database database;
    private final ThreadPoolExecutor workers;
    private final OutboxRelay relay;
    private final HttpServer server;

    private ControlApi(Database database, ThreadPoolExecutor workers, OutboxRelay relay, HttpServer server) {
        this.database = database;
        this.workers = workers;
        this.relay = relay;
        this.server = server;
    }

    /** Whether the outbox relay has completed a round since the start (its topic exists and takes records). */
    public boolean relayPublishing() {
        return relay.published();
    }

    /** Migrates the schema (waiting for PostgreSQL up to a minute), starts the relay and the server. */
    public static ControlApi start(ControlApiConfig config) throws InterruptedException {
        Database database = new Database(config);
        try {
            migrate(database, config);
            Json json = new Json();
            Authenticator authenticator = new Authenticator(config.adminToken(), database, config.trustedProxies());
            OutboxRelay relay = new OutboxRelay(database.dataSource(), producer(config),
                    new TopicSetup(admin(config), config.topic(), config.topicPartitions(), config.topicReplication()),
                    config.topic(), config.outboxBatch(), config.outboxPoll(), SEND_TIMEOUT);
            ApiMetrics metrics = new ApiMetrics().watch(relay, database.dataSource());
            Router router = new Router();
            new RoutesApi(new RouteStore(database), authenticator, json, config.upstreamGuard(), relay::wakeUp).register(router);
            new SplitsApi(new SplitStore(database), authenticator, json, relay::wakeUp).register(router);
            new TenantsApi(database, authenticator, new Tokens(), json).register(router);
            byte[] openApi = resource("openapi.yaml");
            router.add(HttpMethod.GET, "/healthz", request -> ApiResponse.json(HttpResponseStatus.OK, Map.of("status", "ok")))
                    .add(HttpMethod.GET, "/openapi.yaml", request -> ApiResponse.json(HttpResponseStatus.OK,
                            new ApiResponse.Raw(openApi, "application/yaml")))
                    .add(HttpMethod.GET, "/metrics", request -> metrics.scrape());
            ThreadPoolExecutor workers = workers(config);
            relay.start();
            HttpServer server = HttpServer.start(config.bindAddress(), config.port(), 2,
                    new ControlApiInitializer(router, workers, json, metrics, config.maxBodyBytes(), config.dbTimeout()));
            log.info("control API listening on {}:{}", config.bindAddress(), server.port());
            return new ControlApi(database, workers, relay, server);
        } catch (InterruptedException | RuntimeException e) {
            database.close();
            throw e;
        }
    }

    public int port() {
        return server.port();
    }

    private static void migrate(Database database, ControlApiConfig config) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
        while (true) {
            try {
                int applied = Migrations.migrate(database.dataSource(), config.dbSidecarRole());
                log.info("schema up to date ({} migrations applied now)", applied);
                return;
            } catch (RuntimeException e) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("could not migrate the schema within a minute", e);
                }
                log.warn("waiting for PostgreSQL to migrate the schema: {}", e.getMessage());
                TimeUnit.SECONDS.sleep(1);
            }
        }
    }

    private static ThreadPoolExecutor workers(ControlApiConfig config) {
        AtomicInteger count = new AtomicInteger();
        return new ThreadPoolExecutor(config.workerThreads(), config.workerThreads(), 0, TimeUnit.MILLISECONDS,
                new ArrayBlockingQueue<>(config.workerQueue()), runnable -> {
                    Thread thread = new Thread(runnable, "api-worker-" + count.incrementAndGet());
                    thread.setDaemon(true);
                    return thread;
                });
    }

    private static KafkaProducer<byte[], byte[]> producer(ControlApiConfig config) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, config.kafkaBootstrap());
        props.put(ProducerConfig.CLIENT_ID_CONFIG, "tm-control-api-outbox");
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 5);
        props.put(ProducerConfig.LINGER_MS_CONFIG, 1);
        // While Kafka is down, give up quickly and let the relay retry: the events are safe in the outbox.
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 2000);
        props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 5000);
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 10000);
        props.put(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 1000);
        config.kafkaClient().applyTo(props);
        return new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
    }

    private static Admin admin(ControlApiConfig config) {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, config.kafkaBootstrap());
        props.put(AdminClientConfig.CLIENT_ID_CONFIG, "tm-control-api-admin");
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10000);
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5000);
        props.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 1000);
        config.kafkaClient().applyTo(props);
        return Admin.create(props);
    }

    private static byte[] resource(String name) {
        try (InputStream in = ControlApi.class.getClassLoader().getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException(name + " is missing from the jar");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + name, e);
        }
    }

    /**
     * Stops accepting, lets requests already taken finish and answer (up to 10 s), then closes the
     * connections, the relay (which publishes what it has in hand) and the pool.
     */
    @Override
    public void close() {
        server.stopAccepting();
        workers.shutdown();
        try {
            if (!workers.awaitTermination(10, TimeUnit.SECONDS)) {
                log.warn("requests still running after 10 s; stopping anyway");
                workers.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            workers.shutdownNow();
        }
        server.stop(Duration.ofSeconds(2));
        relay.close();
        database.close();
    }
}
