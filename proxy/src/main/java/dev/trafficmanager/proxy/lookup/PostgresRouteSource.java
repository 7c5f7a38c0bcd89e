package dev.trafficmanager.proxy.lookup;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.trafficmanager.route.RouteProtocol;
import dev.trafficmanager.route.TrafficJson;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * L3: reads a route (or a split, for a split key) from PostgreSQL with blocking JDBC on a bounded pool of its own threads, never
 * on an event loop. A full queue, a pool wait past the lookup timeout, a statement past it or a
 * dead server all fail the lookup quickly instead of piling up.
 *
 * <p>Fit for a pooler in transaction mode (PgBouncer) in front of PostgreSQL, as fleets should run:
 * the pool keeps no idle connection ({@code minimumIdle} 0: ten thousand idle sidecars hold no
 * server connection), and statements are never prepared by name on the server
 * ({@code prepareThreshold=0}: the unnamed statement of the extended protocol, which a transaction
 * pooler may send to any server connection), unless the URL says otherwise.
 */
public final class PostgresRouteSource implements RouteSource {
    private static final String QUERY = """
            SELECT e.url, e.is_active, e.revision, e.protocol, e.options::text
              FROM tenants t
              JOIN services s ON s.tenant_id = t.id
              JOIN environments n ON n.service_id = s.id
              JOIN endpoints e ON e.environment_id = n.id
             WHERE t.name = ? AND s.name = ? AND n.name = ? AND e.version = ?""";
    private static final String SPLIT_QUERY = """
            SELECT sp.weights::text, sp.sticky_header, sp.sticky_cookie, sp.is_active, sp.revision
              FROM tenants t
              JOIN services s ON s.tenant_id = t.id
              JOIN environments n ON n.service_id = s.id
              JOIN splits sp ON sp.environment_id = n.id
             WHERE t.name = ? AND s.name = ? AND n.name = ?""";
    private static final int QUEUE = 1024;
    /** An unused connection closes after this long (HikariCP's floor is 10 s). */
    static final long IDLE_TIMEOUT_MILLIS = 30_000;

    private final HikariDataSource dataSource;
    private final ThreadPoolExecutor executor;
    private final LongSupplier clock;

    public PostgresRouteSource(String url, String user, String password, int poolSize, Duration timeout,
                               LongSupplier clock) {
        this.clock = clock;
        HikariConfig hikari = new HikariConfig();
        hikari.setPoolName("route-lookup");
        hikari.setJdbcUrl(url);
        hikari.setUsername(user);
        hikari.setPassword(password);
        hikari.setMaximumPoolSize(poolSize);
        hikari.setMinimumIdle(0);
        hikari.setIdleTimeout(IDLE_TIMEOUT_MILLIS);
        hikari.setReadOnly(true);
        hikari.setConnectionTimeout(Math.max(250, timeout.toMillis()));
        hikari.setValidationTimeout(Math.max(250, Math.min(timeout.toMillis(), 1000)));
        hikari.setInitializationFailTimeout(-1); // start (and serve from L1) while PostgreSQL is down
        // Driver properties must be strings: pgjdbc reads them with getProperty.
        hikari.addDataSourceProperty("connectTimeout", String.valueOf(Math.max(1, timeout.toSeconds())));
        hikari.addDataSourceProperty("socketTimeout", String.valueOf(Math.max(2, timeout.toSeconds() + 1)));
        hikari.addDataSourceProperty("options", "-c statement_timeout=" + timeout.toMillis());
        hikari.addDataSourceProperty("ApplicationName", "tm-sidecar");
        hikari.addDataSourceProperty("prepareThreshold", "0"); // a URL parameter overrides it
        this.dataSource = new HikariDataSource(hikari);
        this.executor = new ThreadPoolExecutor(poolSize, poolSize, 60, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(QUEUE), r -> {
                    Thread t = new Thread(r, "route-lookup-db");
                    t.setDaemon(true);
                    return t;
                });
    }

    @Override
    public CompletionStage<RouteEntry> fetch(String key) {
        try {
            return CompletableFuture.supplyAsync(() -> query(key), executor);
        } catch (RejectedExecutionException e) {
            return CompletableFuture.failedFuture(new IllegalStateException("too many PostgreSQL lookups queued", e));
        }
    }

    private RouteEntry query(String key) {
        RouteKeyProbe parts = new RouteKeyProbe().setKey(key);
        boolean split = parts.isSplitKey();
        try (Connection c = dataSource.getConnection();
             PreparedStatement statement = c.prepareStatement(split ? SPLIT_QUERY : QUERY)) {
            statement.setString(1, parts.tenant().toString());
            statement.setString(2, parts.service().toString());
            statement.setString(3, parts.env().toString());
            if (!split) {
                statement.setString(4, parts.version().toString());
            }
            try (ResultSet row = statement.executeQuery()) {
                long now = clock.getAsLong();
                if (!row.next()) {
                    return RouteEntry.absent(key, now);
                }
                if (split) {
                    return RouteEntry.split(key, TrafficJson.split(row.getString(1), row.getString(2), row.getString(3)),
                            row.getBoolean(4), row.getLong(5), now);
                }
                return RouteEntry.found(key, row.getString(1), row.getBoolean(2), row.getLong(3), now,
                        RouteProtocol.parse(row.getString(4)), TrafficJson.options(row.getString(5)));
            }
        } catch (SQLException e) {
            throw new CompletionException(e);
        }
    }

    /** Connections open now, in use or not: none once idle past {@link #IDLE_TIMEOUT_MILLIS}. */
    public int openConnections() {
        return dataSource.getHikariPoolMXBean() == null ? 0 : dataSource.getHikariPoolMXBean().getTotalConnections();
    }

    @Override
    public void close() {
        executor.shutdown();
        try {
            executor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        dataSource.close();
    }
}
