package dev.trafficmanager.controlapi;

import dev.trafficmanager.config.KafkaClientSettings;
import dev.trafficmanager.config.Settings;
import java.time.Duration;
import java.util.Map;
import dev.trafficmanager.controlapi.auth.ClientAddresses;
import dev.trafficmanager.controlapi.routes.UpstreamGuard;
import dev.trafficmanager.migrations.Migrations;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/**
 * Every setting of the control API, read once at start from environment variables and validated.
 * The defaults fit the local stack of {@code make stack-up}; the README lists them all.
 *
 * @param bindAddress      TM_API_BIND, default 0.0.0.0
 * @param port             TM_API_PORT, default 8081
 * @param adminToken       TM_ADMIN_TOKEN, required (at least 16 characters)
 * @param maxBodyBytes     TM_API_MAX_BODY_BYTES, default 65536: larger bodies get 413
 * @param workerThreads    TM_API_WORKERS, default 8: threads that run JDBC work off the event loop
 * @param workerQueue      TM_API_QUEUE, default 1024: requests waiting for a worker before 503
 * @param dbUrl            TM_DB_URL, default jdbc:postgresql://127.0.0.1:55432/trafficmanager
 * @param dbUser           TM_DB_USER, default tm
 * @param dbPassword       TM_DB_PASSWORD, default tm
 * @param dbSidecarRole    TM_DB_SIDECAR_ROLE, default tm_sidecar: the sidecars' read-only role, granted
 *                         SELECT on the route tables after every migration if it exists ("" for none)
 * @param dbPoolSize       TM_DB_POOL_SIZE, default 10 (workers plus the outbox relay)
 * @param dbTimeout        TM_DB_TIMEOUT_MS, default 2000: wait for a connection before answering 503
 * @param dbStatementTimeout TM_DB_STATEMENT_TIMEOUT_MS, default 5000: PostgreSQL cancels a statement
 *                         running longer (503 database_timeout); the socket gives up 5 s after that,
 *                         for a server too hung to cancel
 * @param kafkaBootstrap   TM_KAFKA_BOOTSTRAP, default 127.0.0.1:59092
 * @param topic            TM_KAFKA_TOPIC, default tm.route-events
 * @param topicPartitions  TM_KAFKA_TOPIC_PARTITIONS, default 32: used only when creating the topic; a
 *                         consumer of one tenant reads about one partition's share of it
 * @param topicReplication TM_KAFKA_TOPIC_REPLICATION, default 1: used only when creating the topic
 * @param outboxBatch      TM_OUTBOX_BATCH, default 500 events per relay transaction
 * @param outboxPoll       TM_OUTBOX_POLL_MS, default 200: how often the relay looks for events
 * @param upstreamGuard    TM_API_UPSTREAM_GUARD (off or on, default off) and TM_API_UPSTREAM_ALLOW
 *                         (hosts it lets through, comma-separated): see {@link UpstreamGuard}
 *                         written by other instances (its own writes wake it at once)
 * @param kafkaClient      TM_KAFKA_USER, TM_KAFKA_PASSWORD, TM_KAFKA_PROPERTIES_FILE, TM_KAFKA_CLIENT_*:
 *                         credentials and any other client property ({@link KafkaClientSettings})
 * @param trustedProxies   TM_API_TRUSTED_PROXIES, default none: load balancers (addresses or CIDR
 *                         ranges, comma-separated) whose X-Forwarded-For names the client
 */
public record ControlApiConfig(String bindAddress, int port, String adminToken, int maxBodyBytes,
                               int workerThreads, int workerQueue, String dbUrl, String dbUser,
                               String dbPassword, String dbSidecarRole, int dbPoolSize, Duration dbTimeout, Duration dbStatementTimeout,
                               String kafkaBootstrap, String topic, int topicPartitions, short topicReplication,
                               int outboxBatch, Duration outboxPoll, UpstreamGuard upstreamGuard,
                               KafkaClientSettings kafkaClient, ClientAddresses trustedProxies) {

    public static ControlApiConfig fromEnv(Map<String, String> env) {
        Settings s = new Settings(env);
        String adminToken = s.string("TM_ADMIN_TOKEN", null);
        if (adminToken == null || adminToken.length() < 16) {
            throw new IllegalArgumentException("TM_ADMIN_TOKEN: "
                    + (adminToken == null ? "not set" : adminToken.length() + " characters")
                    + " (expected: at least 16 characters; make run generates one)");
        }
        int workers = s.integer("TM_API_WORKERS", 8, 1, 256);
        return new ControlApiConfig(
                s.string("TM_API_BIND", "0.0.0.0"),
                s.integer("TM_API_PORT", 8081, 0, 65535),
                adminToken,
                s.integer("TM_API_MAX_BODY_BYTES", 65536, 1024, 16 << 20),
                workers,
                s.integer("TM_API_QUEUE", 1024, 1, 1 << 20),
                s.string("TM_DB_URL", "jdbc:postgresql://127.0.0.1:55432/trafficmanager"),
                s.string("TM_DB_USER", "tm"),
                s.string("TM_DB_PASSWORD", "tm"),
                Migrations.requireRoleName(env.getOrDefault("TM_DB_SIDECAR_ROLE", "tm_sidecar").trim()),
                s.integer("TM_DB_POOL_SIZE", workers + 2, 2, 512),
                s.millis("TM_DB_TIMEOUT_MS", 2000, 250),
                s.millis("TM_DB_STATEMENT_TIMEOUT_MS", 5000, 100),
                s.string("TM_KAFKA_BOOTSTRAP", "127.0.0.1:59092"),
                s.string("TM_KAFKA_TOPIC", "tm.route-events"),
                s.integer("TM_KAFKA_TOPIC_PARTITIONS", 32, 1, 1000),
                (short) s.integer("TM_KAFKA_TOPIC_REPLICATION", 1, 1, 10),
                s.integer("TM_OUTBOX_BATCH", 500, 1, 10000),
                s.millis("TM_OUTBOX_POLL_MS", 200, 10),
                upstreamGuard(s),
                KafkaClientSettings.fromEnv(env),
                ClientAddresses.parse(s.string("TM_API_TRUSTED_PROXIES", "")));
    }

    private static UpstreamGuard upstreamGuard(Settings s) {
        String mode = s.string("TM_API_UPSTREAM_GUARD", "off");
        if (!mode.equals("on") && !mode.equals("off")) {
            throw new IllegalArgumentException("TM_API_UPSTREAM_GUARD: " + mode + " (expected: on or off)");
        }
        Set<String> allowed = new HashSet<>();
        for (String host : s.string("TM_API_UPSTREAM_ALLOW", "").split(",")) {
            if (!host.isBlank()) {
                allowed.add(host.trim().toLowerCase(Locale.ROOT));
            }
        }
        return mode.equals("on") ? new UpstreamGuard(allowed) : UpstreamGuard.OFF;
    }
}
