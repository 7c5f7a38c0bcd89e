package dev.trafficmanager.migrations;

import javax.sql.DataSource;
import org.flywaydb.core.Flyway;

/** Applies the schema in {@code db/migration} of this jar. Safe to call from several processes at once. */
public final class Migrations {
    private Migrations() {
    }

    /** Migrates to the latest version and returns how many migrations ran. */
    public static int migrate(DataSource dataSource) {
        return Flyway.configure()
                .dataSource(dataSource)
                .locations("classpath:db/migration")
                .failOnMissingLocations(true)
                .load()
                .migrate()
                .migrationsExecuted;
    }
}
