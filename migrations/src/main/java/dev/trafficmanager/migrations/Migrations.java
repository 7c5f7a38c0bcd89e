package dev.trafficmanager.migrations;

import java.util.Map;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;

/**
 * Applies the schema in {@code db/migration} of this jar, then grants the sidecars' read-only role
 * what lookups read ({@code afterMigrate.sql}). Safe to call from several processes at once.
 */
public final class Migrations {
    private Migrations() {
    }

    /**
     * Migrates to the latest version and returns how many migrations ran. {@code sidecarRole} is
     * the sidecars' role, granted SELECT on the route tables if it exists ("" for none).
     */
    public static int migrate(DataSource dataSource, String sidecarRole) {
        if (!sidecarRole.matches("[A-Za-z_][A-Za-z0-9_]{0,62}|")) {
            throw new IllegalArgumentException("TM_DB_SIDECAR_ROLE: " + sidecarRole
                    + " (expected: a role name of letters, digits and _, or empty for none)");
        }
        return Flyway.configure()
                .dataSource(dataSource)
                .locations("classpath:db/migration")
                .placeholders(Map.of("sidecar_role", sidecarRole))
                .failOnMissingLocations(true)
                .load()
                .migrate()
                .migrationsExecuted;
    }
}
