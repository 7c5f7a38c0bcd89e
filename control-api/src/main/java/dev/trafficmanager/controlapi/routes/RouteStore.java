package dev.trafficmanager.controlapi.routes;

import dev.trafficmanager.controlapi.db.Database;
import dev.trafficmanager.controlapi.db.Hierarchy;
import dev.trafficmanager.controlapi.http.ApiException;
import dev.trafficmanager.route.Route;
import dev.trafficmanager.route.RouteEventType;
import dev.trafficmanager.route.RouteKey;
import dev.trafficmanager.route.RouteOptions;
import dev.trafficmanager.route.RouteProtocol;
import dev.trafficmanager.route.TrafficJson;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads and writes routes. Every write is one transaction that changes the endpoint row and inserts
 * its event row (the outbox), or writes nothing at all. Concurrent writers of one route serialize on
 * the endpoint row's lock; concurrent creators of one route meet at its unique key, so exactly one
 * creates it and the others see it created. Blocks on JDBC: call from worker threads.
 */
public final class RouteStore {
    private static final String ROUTE_COLUMNS =
            "p.id, t.name, s.name, e.name, p.version, p.url, p.is_active, p.revision, p.created_at, p.updated_at, p.protocol,"
                    + " p.options::text";
    private static final String ROUTE_JOINS = " FROM endpoints p"
            + " JOIN environments e ON e.id = p.environment_id"
            + " JOIN services s ON s.id = e.service_id"
            + " JOIN tenants t ON t.id = s.tenant_id";
    private static final String BY_KEY =
            " WHERE t.name = ? AND s.name = ? AND e.name = ? AND p.version = ?";

    private final Database database;

    public RouteStore(Database database) {
        this.database = database;
    }

    /**
     * Creates the route or sets its URL, protocol and options. The same again changes nothing and emits nothing.
     * The active flag is left as it is: a deactivated route stays deactivated until activated.
     *
     * @param expectedRevision the {@code If-Match} revision, or null
     */
    public RouteChange upsert(RouteKey key, String url, RouteProtocol protocol, RouteOptions options,
                              Long expectedRevision) {
        return database.inTransaction(c -> {
            long environmentId = Hierarchy.environmentId(c, key.tenant(), key.service(), key.env());
            StoredRoute current = lockRoute(c, key);
            if (current == null) {
                requireRevision(null, expectedRevision, key);
                StoredRoute created = insertEndpoint(c, environmentId, key, url, protocol, options);
                if (created != null) {
                    insertEvent(c, created, RouteEventType.CREATED);
                    return new RouteChange(created.route(), true, true);
                }
                current = lockRoute(c, key); // another transaction created it first and has committed
            }
            requireRevision(current, expectedRevision, key);
            if (current.route().url().equals(url) && current.route().protocol() == protocol
                    && current.route().options().equals(options)) {
                return new RouteChange(current.route(), false, false);
            }
            StoredRoute updated = update(c, current, "url = ?, protocol = ?, options = ?::jsonb", url, protocol.wireName(),
                    TrafficJson.optionsText(options));
            insertEvent(c, updated, RouteEventType.UPDATED);
            return new RouteChange(updated.route(), false, true);
        });
    }

    /** Activates or deactivates (soft-deletes) an existing route; idempotent. */
    public RouteChange setActive(RouteKey key, boolean active, Long expectedRevision) {
        return database.inTransaction(c -> {
            StoredRoute current = lockRoute(c, key);
            if (current == null) {
                throw routeNotFound(key);
            }
            requireRevision(current, expectedRevision, key);
            if (current.route().active() == active) {
                return new RouteChange(current.route(), false, false);
            }
            StoredRoute updated = update(c, current, "is_active = ?", active);
            insertEvent(c, updated, active ? RouteEventType.ACTIVATED : RouteEventType.DEACTIVATED);
            return new RouteChange(updated.route(), false, true);
        });
    }

    public Route get(RouteKey key) {
        StoredRoute route = database.inTransaction(c -> findRoute(c, key, false));
        if (route == null) {
            throw routeNotFound(key);
        }
        return route.route();
    }

    /** Routes of a tenant in creation order, after the row id {@code afterId}. */
    public RoutePage list(RouteFilter filter, long afterId, int limit) {
        return database.inTransaction(c -> {
            Hierarchy.tenantId(c, filter.tenant());
            String sql = "SELECT " + ROUTE_COLUMNS + ROUTE_JOINS
                    + " WHERE t.name = ? AND (?::text IS NULL OR s.name = ?) AND (?::text IS NULL OR e.name = ?)"
                    + " AND (?::boolean IS NULL OR p.is_active = ?) AND p.id > ? ORDER BY p.id LIMIT ?";
            try (PreparedStatement statement = c.prepareStatement(sql)) {
                statement.setString(1, filter.tenant());
                statement.setString(2, filter.service());
                statement.setString(3, filter.service());
                statement.setString(4, filter.env());
                statement.setString(5, filter.env());
                statement.setObject(6, filter.active(), Types.BOOLEAN);
                statement.setObject(7, filter.active(), Types.BOOLEAN);
                statement.setLong(8, afterId);
                statement.setInt(9, limit + 1);
                List<Route> routes = new ArrayList<>(limit);
                long lastId = 0;
                boolean more = false;
                try (ResultSet rows = statement.executeQuery()) {
                    while (rows.next()) {
                        if (routes.size() == limit) {
                            more = true;
                            break;
                        }
                        StoredRoute route = readRoute(rows);
                        routes.add(route.route());
                        lastId = route.id();
                    }
                }
                return new RoutePage(routes, more ? lastId : null);
            }
        });
    }

    /** The route's events, oldest first. */
    public List<HistoryEntry> history(RouteKey key) {
        return database.inTransaction(c -> {
            StoredRoute route = findRoute(c, key, false);
            if (route == null) {
                throw routeNotFound(key);
            }
            try (PreparedStatement statement = c.prepareStatement(
                    "SELECT event_type, url, is_active, revision, occurred_at, published_at IS NOT NULL, publish_error, protocol,"
                            + " options::text"
                            + " FROM route_events WHERE endpoint_id = ? ORDER BY revision")) {
                statement.setLong(1, route.id());
                List<HistoryEntry> entries = new ArrayList<>();
                try (ResultSet rows = statement.executeQuery()) {
                    while (rows.next()) {
                        entries.add(new HistoryEntry(rows.getString(1), rows.getString(2), rows.getBoolean(3),
                                rows.getLong(4), rows.getTimestamp(5).toInstant().toString(), rows.getBoolean(6),
                                rows.getString(7), rows.getString(8), TrafficJson.parse(rows.getString(9))));
                    }
                }
                return entries;
            }
        });
    }

    private static StoredRoute lockRoute(Connection c, RouteKey key) throws SQLException {
        return findRoute(c, key, true);
    }

    private static StoredRoute findRoute(Connection c, RouteKey key, boolean lock) throws SQLException {
        try (PreparedStatement statement = c.prepareStatement(
                "SELECT " + ROUTE_COLUMNS + ROUTE_JOINS + BY_KEY + (lock ? " FOR UPDATE OF p" : ""))) {
            setKey(statement, key, 1);
            try (ResultSet rows = statement.executeQuery()) {
                return rows.next() ? readRoute(rows) : null;
            }
        }
    }

    private static StoredRoute insertEndpoint(Connection c, long environmentId, RouteKey key, String url,
                                              RouteProtocol protocol, RouteOptions options) throws SQLException {
        try (PreparedStatement statement = c.prepareStatement(
                "INSERT INTO endpoints (environment_id, version, url, protocol, options) VALUES (?, ?, ?, ?, ?::jsonb)"
                        + " ON CONFLICT ON CONSTRAINT endpoints_route_key DO NOTHING"
                        + " RETURNING id, is_active, revision, created_at, updated_at")) {
            statement.setLong(1, environmentId);
            statement.setString(2, key.version());
            statement.setString(3, url);
            statement.setString(4, protocol.wireName());
            statement.setString(5, TrafficJson.optionsText(options));
            try (ResultSet rows = statement.executeQuery()) {
                if (!rows.next()) {
                    return null;
                }
                return new StoredRoute(rows.getLong(1), new Route(key, url, rows.getBoolean(2), rows.getLong(3),
                        rows.getTimestamp(4).toInstant(), rows.getTimestamp(5).toInstant(), protocol, options));
            }
        }
    }

    /** Sets columns ({@code assignment}, one {@code ?} per value), bumps the revision and returns the new state. */
    private static StoredRoute update(Connection c, StoredRoute current, String assignment, Object... values)
            throws SQLException {
        try (PreparedStatement statement = c.prepareStatement("UPDATE endpoints SET " + assignment
                + ", revision = revision + 1, updated_at = now() WHERE id = ?"
                + " RETURNING url, is_active, revision, updated_at, protocol, options::text")) {
            for (int i = 0; i < values.length; i++) {
                statement.setObject(i + 1, values[i]);
            }
            statement.setLong(values.length + 1, current.id());
            try (ResultSet rows = statement.executeQuery()) {
                rows.next();
                Route before = current.route();
                return new StoredRoute(current.id(), new Route(before.key(), rows.getString(1), rows.getBoolean(2),
                        rows.getLong(3), before.createdAt(), rows.getTimestamp(4).toInstant(),
                        RouteProtocol.parse(rows.getString(5)), TrafficJson.options(rows.getString(6))));
            }
        }
    }

    private static void insertEvent(Connection c, StoredRoute route, RouteEventType type) throws SQLException {
        try (PreparedStatement statement = c.prepareStatement(
                "INSERT INTO route_events (endpoint_id, event_type, url, is_active, revision, occurred_at, protocol,"
                        + " options) VALUES (?, ?, ?, ?, ?, ?, ?, ?::jsonb)")) {
            statement.setLong(1, route.id());
            statement.setString(2, type.wireName());
            statement.setString(3, route.route().url());
            statement.setBoolean(4, route.route().active());
            statement.setLong(5, route.route().revision());
            statement.setTimestamp(6, java.sql.Timestamp.from(route.route().updatedAt()));
            statement.setString(7, route.route().protocol().wireName());
            statement.setString(8, TrafficJson.optionsText(route.route().options()));
            statement.executeUpdate();
        }
    }

    private static void requireRevision(StoredRoute current, Long expected, RouteKey key) {
        Hierarchy.requireRevision(current == null ? 0 : current.route().revision(), expected, "route " + key);
    }

    private static void setKey(PreparedStatement statement, RouteKey key, int first) throws SQLException {
        statement.setString(first, key.tenant());
        statement.setString(first + 1, key.service());
        statement.setString(first + 2, key.env());
        statement.setString(first + 3, key.version());
    }

    private static StoredRoute readRoute(ResultSet rows) throws SQLException {
        RouteKey key = new RouteKey(rows.getString(2), rows.getString(3), rows.getString(4), rows.getString(5));
        return new StoredRoute(rows.getLong(1), new Route(key, rows.getString(6), rows.getBoolean(7), rows.getLong(8),
                rows.getTimestamp(9).toInstant(), rows.getTimestamp(10).toInstant(), RouteProtocol.parse(rows.getString(11)),
                TrafficJson.options(rows.getString(12))));
    }


    static ApiException routeNotFound(RouteKey key) {
        return ApiException.notFound("route_not_found", "no route " + key);
    }
}
