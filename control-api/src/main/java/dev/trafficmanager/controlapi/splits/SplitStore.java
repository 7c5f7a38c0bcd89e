package dev.trafficmanager.controlapi.splits;

import dev.trafficmanager.controlapi.db.Database;
import dev.trafficmanager.controlapi.db.Hierarchy;
import dev.trafficmanager.controlapi.http.ApiException;
import dev.trafficmanager.controlapi.routes.HistoryEntry;
import dev.trafficmanager.route.RouteEventType;
import dev.trafficmanager.route.Split;
import dev.trafficmanager.route.SplitKey;
import dev.trafficmanager.route.TrafficJson;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads and writes splits like {@code RouteStore} does routes: every write is one transaction that
 * changes the split's row and inserts its event into the shared outbox, or writes nothing.
 * Blocks on JDBC: call from worker threads.
 */
public final class SplitStore {
    private static final String COLUMNS = "sp.id, t.name, s.name, e.name, sp.weights::text, sp.sticky_header,"
            + " sp.sticky_cookie, sp.is_active, sp.revision, sp.created_at, sp.updated_at";
    private static final String JOINS = " FROM splits sp JOIN environments e ON e.id = sp.environment_id"
            + " JOIN services s ON s.id = e.service_id JOIN tenants t ON t.id = s.tenant_id";

    /** The outcome of a write: the split as it now is, and whether the write created or changed it. */
    public record SplitChange(SplitState split, boolean created, boolean changed) {
    }

    private record Stored(long id, SplitState state) {
    }

    private final Database database;

    public SplitStore(Database database) {
        this.database = database;
    }

    /**
     * Creates the split, changes it, or brings a deleted one back (a new revision, event type
     * {@code created}). The same again changes nothing and emits nothing.
     */
    public SplitChange put(SplitKey key, Split split, Long expectedRevision) {
        return database.inTransaction(c -> {
            long environmentId = Hierarchy.environmentId(c, key.tenant(), key.service(), key.env());
            Stored current = find(c, key, true);
            if (current == null) {
                Hierarchy.requireRevision(0, expectedRevision, "split " + key);
                Stored created = insert(c, environmentId, split);
                if (created != null) {
                    insertEvent(c, created, RouteEventType.CREATED);
                    return new SplitChange(created.state(), true, true);
                }
                current = find(c, key, true); // another transaction created it first and has committed
            }
            Hierarchy.requireRevision(current.state().revision(), expectedRevision, "split " + key);
            if (current.state().active() && current.state().split().equals(split)) {
                return new SplitChange(current.state(), false, false);
            }
            Stored updated = update(c, current.id(), split, true);
            insertEvent(c, updated, current.state().active() ? RouteEventType.UPDATED : RouteEventType.CREATED);
            return new SplitChange(updated.state(), !current.state().active(), true);
        });
    }

    /** Deletes (soft) the split; idempotent; 404 if it never existed. */
    public SplitChange delete(SplitKey key, Long expectedRevision) {
        return database.inTransaction(c -> {
            Stored current = find(c, key, true);
            if (current == null) {
                throw notFound(key);
            }
            Hierarchy.requireRevision(current.state().revision(), expectedRevision, "split " + key);
            if (!current.state().active()) {
                return new SplitChange(current.state(), false, false);
            }
            Stored deleted = update(c, current.id(), current.state().split(), false);
            insertEvent(c, deleted, RouteEventType.DELETED);
            return new SplitChange(deleted.state(), false, true);
        });
    }

    public SplitState get(SplitKey key) {
        Stored stored = database.inTransaction(c -> find(c, key, false));
        if (stored == null) {
            throw notFound(key);
        }
        return stored.state();
    }

    /** The tenant's splits, deleted ones too, by service and env. */
    public List<SplitState> list(String tenant) {
        return database.inTransaction(c -> {
            Hierarchy.tenantId(c, tenant);
            try (PreparedStatement statement = c.prepareStatement("SELECT " + COLUMNS + JOINS
                    + " WHERE t.name = ? ORDER BY s.name, e.name")) {
                statement.setString(1, tenant);
                List<SplitState> splits = new ArrayList<>();
                try (ResultSet rows = statement.executeQuery()) {
                    while (rows.next()) {
                        splits.add(read(rows).state());
                    }
                }
                return splits;
            }
        });
    }

    /** The split's events, oldest first. */
    public List<HistoryEntry> history(SplitKey key) {
        return database.inTransaction(c -> {
            Stored split = find(c, key, false);
            if (split == null) {
                throw notFound(key);
            }
            try (PreparedStatement statement = c.prepareStatement(
                    "SELECT event_type, is_active, revision, occurred_at, published_at IS NOT NULL, publish_error,"
                            + " options::text FROM route_events WHERE split_id = ? ORDER BY revision")) {
                statement.setLong(1, split.id());
                List<HistoryEntry> entries = new ArrayList<>();
                try (ResultSet rows = statement.executeQuery()) {
                    while (rows.next()) {
                        entries.add(new HistoryEntry(rows.getString(1), null, rows.getBoolean(2), rows.getLong(3),
                                rows.getTimestamp(4).toInstant().toString(), rows.getBoolean(5), rows.getString(6), null,
                                TrafficJson.parse(rows.getString(7))));
                    }
                }
                return entries;
            }
        });
    }

    private static Stored find(Connection c, SplitKey key, boolean lock) throws SQLException {
        try (PreparedStatement statement = c.prepareStatement("SELECT " + COLUMNS + JOINS
                + " WHERE t.name = ? AND s.name = ? AND e.name = ?" + (lock ? " FOR UPDATE OF sp" : ""))) {
            statement.setString(1, key.tenant());
            statement.setString(2, key.service());
            statement.setString(3, key.env());
            try (ResultSet rows = statement.executeQuery()) {
                return rows.next() ? read(rows) : null;
            }
        }
    }

    private static Stored insert(Connection c, long environmentId, Split split) throws SQLException {
        try (PreparedStatement statement = c.prepareStatement(
                "INSERT INTO splits (environment_id, weights, sticky_header, sticky_cookie) VALUES (?, ?::jsonb, ?, ?)"
                        + " ON CONFLICT (environment_id) DO NOTHING RETURNING id")) {
            statement.setLong(1, environmentId);
            setSplit(statement, split, 2);
            try (ResultSet rows = statement.executeQuery()) {
                return rows.next() ? byId(c, rows.getLong(1)) : null;
            }
        }
    }

    private static Stored update(Connection c, long id, Split split, boolean active) throws SQLException {
        try (PreparedStatement statement = c.prepareStatement("UPDATE splits SET weights = ?::jsonb, sticky_header = ?,"
                + " sticky_cookie = ?, is_active = ?, revision = revision + 1, updated_at = now() WHERE id = ?")) {
            setSplit(statement, split, 1);
            statement.setBoolean(4, active);
            statement.setLong(5, id);
            statement.executeUpdate();
        }
        return byId(c, id);
    }

    private static Stored byId(Connection c, long id) throws SQLException {
        try (PreparedStatement statement = c.prepareStatement("SELECT " + COLUMNS + JOINS + " WHERE sp.id = ?")) {
            statement.setLong(1, id);
            try (ResultSet rows = statement.executeQuery()) {
                rows.next();
                return read(rows);
            }
        }
    }

    private static void setSplit(PreparedStatement statement, Split split, int first) throws SQLException {
        statement.setString(first, TrafficJson.weights(split).toString());
        statement.setString(first + 1, split.stickyHeader());
        statement.setString(first + 2, split.stickyCookie());
    }

    private static void insertEvent(Connection c, Stored split, RouteEventType type) throws SQLException {
        try (PreparedStatement statement = c.prepareStatement("INSERT INTO route_events (split_id, event_type, is_active,"
                + " revision, occurred_at, options) VALUES (?, ?, ?, ?, ?, ?::jsonb)")) {
            statement.setLong(1, split.id());
            statement.setString(2, type.wireName());
            statement.setBoolean(3, split.state().active());
            statement.setLong(4, split.state().revision());
            statement.setTimestamp(5, Timestamp.from(split.state().updatedAt()));
            statement.setString(6, TrafficJson.toJson(split.state().split()).toString());
            statement.executeUpdate();
        }
    }

    private static Stored read(ResultSet rows) throws SQLException {
        SplitKey key = new SplitKey(rows.getString(2), rows.getString(3), rows.getString(4));
        Split split = TrafficJson.split(rows.getString(5), rows.getString(6), rows.getString(7));
        return new Stored(rows.getLong(1), new SplitState(key, split, rows.getBoolean(8), rows.getLong(9),
                rows.getTimestamp(10).toInstant(), rows.getTimestamp(11).toInstant()));
    }

    static ApiException notFound(SplitKey key) {
        return ApiException.notFound("split_not_found", "no split " + key);
    }
}
