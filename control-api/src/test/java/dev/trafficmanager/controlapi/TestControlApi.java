package dev.trafficmanager.controlapi;

import dev.trafficmanager.testing.LocalStack;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

/**
 * A control API started in-process against the local stack, on a free port. Tests use a database
 * of their own ({@value #DATABASE}, so a {@code make run} on the same stack never shares their
 * outbox) and each instance a topic of its own; tenants get unique names per test, and tests count
 * the events of their own tenants.
 */
public final class TestControlApi implements AutoCloseable {
    public static final String ADMIN_TOKEN = "test-admin-token-0123456789";
    static final String DATABASE = "trafficmanager_test";
    private static boolean databaseCreated;

    public final ControlApi api;
    public final ApiClient client;
    public final String topic;

    private TestControlApi(ControlApi api, String topic) {
        this.api = api;
        this.client = new ApiClient(api.port());
        this.topic = topic;
    }

    public static TestControlApi start(Map<String, String> overrides) throws InterruptedException {
        LocalStack.ensureUp();
        String topic = "tm.route-events.test-" + UUID.randomUUID().toString().substring(0, 8);
        Map<String, String> env = new HashMap<>(LocalStack.clientEnv("control-api"));
        env.put("TM_ADMIN_TOKEN", ADMIN_TOKEN);
        env.put("TM_API_BIND", "127.0.0.1");
        env.put("TM_API_PORT", "0");
        env.put("TM_DB_URL", jdbcUrl());
        env.put("TM_KAFKA_TOPIC", topic);
        env.put("TM_OUTBOX_POLL_MS", "50");
        env.put("TM_KAFKA_TOPIC_PARTITIONS", "3"); // a topic per test: keep the broker's partition count low
        env.putAll(overrides);
        ControlApi api = ControlApi.start(ControlApiConfig.fromEnv(env));
        // A new topic's partitions may refuse records for seconds on a loaded machine (NOT_LEADER while the
        // broker sets up their logs): a test's first route must not wait behind that within its own deadline.
        dev.trafficmanager.testing.Poll.until(java.time.Duration.ofSeconds(60), "the relay publishing to " + topic,
                api::relayPublishing);
        return new TestControlApi(api, topic);
    }

    public static TestControlApi start() throws InterruptedException {
        return start(Map.of());
    }

    public static String unique(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    /** The test database's URL; creates the database on first use (the control API migrates it). */
    public static synchronized String jdbcUrl() {
        String stackUrl = LocalStack.jdbcUrl();
        if (!databaseCreated) {
            try (Connection c = DriverManager.getConnection(stackUrl, LocalStack.dbUser(), LocalStack.dbPassword());
                 Statement statement = c.createStatement();
                 ResultSet rows = statement.executeQuery("SELECT 1 FROM pg_database WHERE datname = '" + DATABASE + "'")) {
                if (!rows.next()) {
                    statement.execute("CREATE DATABASE " + DATABASE);
                }
            } catch (SQLException e) {
                throw new IllegalStateException("cannot create the test database " + DATABASE, e);
            }
            databaseCreated = true;
        }
        return stackUrl.substring(0, stackUrl.lastIndexOf('/') + 1) + DATABASE;
    }

    public static Connection db() throws SQLException {
        return DriverManager.getConnection(jdbcUrl(), LocalStack.dbUser(), LocalStack.dbPassword());
    }

    public static long count(String sql, Object... params) {
        try (Connection c = db(); PreparedStatement statement = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                statement.setObject(i + 1, params[i]);
            }
            try (ResultSet rows = statement.executeQuery()) {
                rows.next();
                return rows.getLong(1);
            }
        } catch (SQLException e) {
            throw new AssertionError(sql + ": " + e, e);
        }
    }

    /** Row counts of every table, to prove a refused request wrote nothing. */
    static Map<String, Long> tableCounts() {
        Map<String, Long> counts = new HashMap<>();
        for (String table : new String[] {"tenants", "api_tokens", "services", "environments", "endpoints", "route_events", "splits"}) {
            counts.put(table, count("SELECT count(*) FROM " + table));
        }
        return counts;
    }

    @Override
    public void close() {
        api.close();
    }
}
