package dev.trafficmanager.controlapi.db;

import dev.trafficmanager.controlapi.http.ApiException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/** The tenant, service and environment rows routes and splits hang from. */
public final class Hierarchy {
    private Hierarchy() {
    }

    /** The tenant's row id; 404 {@code tenant_not_found} when there is none. */
    public static long tenantId(Connection c, String tenant) throws SQLException {
        try (PreparedStatement statement = c.prepareStatement("SELECT id FROM tenants WHERE name = ?")) {
            statement.setString(1, tenant);
            try (ResultSet rows = statement.executeQuery()) {
                if (!rows.next()) {
                    throw ApiException.notFound("tenant_not_found", "no tenant " + tenant);
                }
                return rows.getLong(1);
            }
        }
    }

    /** The environment's row id, inserting its service and itself if missing. */
    public static long environmentId(Connection c, String tenant, String service, String env) throws SQLException {
        long serviceId = ensureChild(c, "services", "tenant_id", tenantId(c, tenant), service);
        return ensureChild(c, "environments", "service_id", serviceId, env);
    }

    /** The id of the named service or environment under its parent, inserting it if missing. */
    private static long ensureChild(Connection c, String table, String parentColumn, long parentId, String name)
            throws SQLException {
        String select = "SELECT id FROM " + table + " WHERE " + parentColumn + " = ? AND name = ?";
        Long id = selectId(c, select, parentId, name);
        if (id == null) {
            // ON CONFLICT waits for a concurrent inserter; the SELECT after it (a new statement, so a
            // new snapshot under READ COMMITTED) then sees that inserter's committed row.
            id = selectId(c, "INSERT INTO " + table + " (" + parentColumn + ", name) VALUES (?, ?)"
                    + " ON CONFLICT (" + parentColumn + ", name) DO NOTHING RETURNING id", parentId, name);
            if (id == null) {
                id = selectId(c, select, parentId, name);
            }
        }
        return id;
    }

    private static Long selectId(Connection c, String sql, long parentId, String name) throws SQLException {
        try (PreparedStatement statement = c.prepareStatement(sql)) {
            statement.setLong(1, parentId);
            statement.setString(2, name);
            try (ResultSet rows = statement.executeQuery()) {
                return rows.next() ? rows.getLong(1) : null;
            }
        }
    }

    /** 412 {@code precondition_failed} unless {@code expected} is null or the current revision (0: none). */
    public static void requireRevision(long current, Long expected, String what) {
        if (expected == null || current == expected) {
            return;
        }
        throw new ApiException(io.netty.handler.codec.http.HttpResponseStatus.PRECONDITION_FAILED, "precondition_failed",
                expected == 0 ? "If-None-Match: * but " + what + " exists, at revision " + current
                        : "If-Match: " + expected + " but " + what + (current == 0 ? " does not exist" : " is at revision " + current));
    }
}
