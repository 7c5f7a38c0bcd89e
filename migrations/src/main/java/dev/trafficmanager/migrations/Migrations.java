package dev.trafficmanager.migrations;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;

/**
 * Applies the schema in {@code db/migration} of this jar, then grants the sidecars' read-only role
 * what a route lookup reads. Safe to call from several processes at once.
 */
public final class Migrations {
    /**
     * Run after every migration, so the grant follows new tables and a role created later: the
     * sidecars' role, when the database has one, may read what a lookup reads, and nothing else.
     * Not a Flyway callback script: a jar that is twice on a class path makes Flyway refuse those.
     */
    private static final String GRANT = """
            DO $$
            BEGIN
              IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '%1$s') THEN
                GRANT SELECT ON tenants, services, environments, endpoints, splits TO "%1$s";
              END IF;
            END $$""";

    private Migrations() {
    }

    /**
     * Returns {@code role} if it is a role name the grant may quote (letters, digits and _), or
     * empty for none; otherwise throws naming TM_DB_SIDECAR_ROLE.
     */
    public static String requireRoleName(String role) {
        if (!role.matches("[A-Za-z_][A-Za-z0-9_]{0,62}|")) {
            throw new IllegalArgumentException("TM_DB_SIDECAR_ROLE: " + role
                    + " (expected: a role name of letters, digits and _, or empty for none)");
        }
        return role;
    }

    /**
     * Migrates to the latest version and returns how many migrations ran. {@code sidecarRole} is
     * the sidecars' role, granted SELECT on the route tables if it exists ("" for none).
     */
    public static int migrate(DataSource dataSource, String sidecarRole) {
        requireRoleName(sidecarRole);
        int applied = Flyway.configure()
                .dataSource(dataSource)
                .locations("classpath:db/migration")
                .failOnMissingLocations(true)
                .load()
                .migrate()
                .migrationsExecuted;
        if (!sidecarRole.isEmpty()) {
            try (Connection c = dataSource.getConnection(); Statement statement = c.createStatement()) {
                statement.execute(String.format(GRANT, sidecarRole));
                if (!c.getAutoCommit()) {
                    c.commit(); // a pool may hand out connections without auto-commit (the control API's does)
                }
            } catch (SQLException e) {
                throw new IllegalStateException("cannot grant the sidecars' role " + sidecarRole + " SELECT: " + e.getMessage(), e);
            }
        }
        return applied;
    }
}
