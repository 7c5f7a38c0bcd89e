package dev.trafficmanager.controlapi.db;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.trafficmanager.controlapi.ControlApiConfig;
import dev.trafficmanager.controlapi.http.ApiException;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The connection pool and the one way the API writes: {@link #inTransaction}. Callers run on
 * worker threads, never on an event loop.
 */
public final class Database implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Database.class);
    /** Serialization failures and deadlocks are retried this many times before answering 503. */
    private static final int MAX_ATTEMPTS = 3;

    /** Work inside one transaction; a thrown exception rolls everything back. */
    @FunctionalInterface
    public interface Work<T> {
        T run(Connection connection) throws SQLException;
    }

    private final HikariDataSource dataSource;

    public Database(ControlApiConfig config) {
        HikariConfig hikari = new HikariConfig();
        hikari.setPoolName("control-api");
        hikari.setJdbcUrl(config.dbUrl());
        hikari.setUsername(config.dbUser());
        hikari.setPassword(config.dbPassword());
        hikari.setMaximumPoolSize(config.dbPoolSize());
        hikari.setMinimumIdle(Math.min(2, config.dbPoolSize()));
        hikari.setConnectionTimeout(config.dbTimeout().toMillis());
        hikari.setValidationTimeout(Math.min(config.dbTimeout().toMillis(), 1000));
        hikari.setAutoCommit(false);
        // Start even when PostgreSQL is down: requests answer 503 until it is back.
        hikari.setInitializationFailTimeout(-1);
        long statementMillis = config.dbStatementTimeout().toMillis();
        long connectSeconds = Math.max(1, config.dbTimeout().toSeconds());
        // Driver properties must be strings: pgjdbc reads them with getProperty, which skips others.
        hikari.addDataSourceProperty("connectTimeout", String.valueOf(connectSeconds));
        hikari.addDataSourceProperty("socketTimeout", String.valueOf(statementMillis / 1000 + 5));
        hikari.addDataSourceProperty("options", "-c statement_timeout=" + statementMillis);
        hikari.addDataSourceProperty("tcpKeepAlive", "true");
        hikari.addDataSourceProperty("ApplicationName", "tm-control-api");
        this.dataSource = new HikariDataSource(hikari);
    }

    public DataSource dataSource() {
        return dataSource;
    }

    /**
     * Runs {@code work} in one transaction and commits it. Any failure rolls back, so nothing partial
     * is ever written. Lost connections answer 503 {@code database_unavailable}; serialization
     * failures and deadlocks are retried.
     */
    public <T> T inTransaction(Work<T> work) {
        for (int attempt = 1; ; attempt++) {
            try (Connection connection = connection()) {
                T result;
                try {
                    result = work.run(connection);
                } catch (SQLException | RuntimeException e) {
                    rollbackQuietly(connection, e);
                    throw e;
                }
                commit(connection);
                return result;
            } catch (SQLException e) {
                if (isRetryable(e) && attempt < MAX_ATTEMPTS) {
                    log.debug("retrying after {} (attempt {})", e.getSQLState(), attempt);
                    continue;
                }
                throw translate(e);
            }
        }
    }

    /**
     * Commits; if the connection breaks while committing, PostgreSQL may or may not have applied
     * the transaction, and the caller is told so rather than "nothing was written".
     */
    private static void commit(Connection connection) throws SQLException {
        try {
            connection.commit();
        } catch (SQLException e) {
            if (isConnectionLost(e)) {
                throw new ApiException(HttpResponseStatus.SERVICE_UNAVAILABLE, "database_unavailable",
                        "PostgreSQL failed while committing: the write may or may not have been applied;"
                                + " read it back before retrying", e);
            }
            throw e;
        }
    }

    private Connection connection() throws SQLException {
        return dataSource.getConnection();
    }

    private static void rollbackQuietly(Connection connection, Exception cause) {
        try {
            connection.rollback();
        } catch (SQLException rollbackFailure) {
            cause.addSuppressed(rollbackFailure); // the connection is broken; the pool discards it
        }
    }

    /** SQL state classes 08 (connection exception) and 57P (server shutting down or unreachable). */
    private static boolean isConnectionLost(SQLException e) {
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        return state.startsWith("08") || state.startsWith("57P");
    }

    private static boolean isRetryable(SQLException e) {
        String state = e.getSQLState();
        return "40001".equals(state) || "40P01".equals(state);
    }

    /** Turns a SQL failure into the API error it means. */
    public static ApiException translate(SQLException e) {
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        if (e instanceof SQLTransientConnectionException || isConnectionLost(e) || state.equals("53300")
                || isRetryable(e)) {
            return new ApiException(HttpResponseStatus.SERVICE_UNAVAILABLE, "database_unavailable",
                    "PostgreSQL is unavailable; nothing was written, retry later", e);
        }
        if (state.equals("57014")) {
            return new ApiException(HttpResponseStatus.SERVICE_UNAVAILABLE, "database_timeout",
                    "PostgreSQL did not answer in time; nothing was written, retry later", e);
        }
        return new ApiException(HttpResponseStatus.INTERNAL_SERVER_ERROR, "internal_error",
                "the request failed and nothing was written; see the server log", e);
    }

    @Override
    public void close() {
        dataSource.close();
    }
}
