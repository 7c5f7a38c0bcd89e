package dev.trafficmanager.controlapi.outbox;

import dev.trafficmanager.route.ChangeEvent;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes every route's current state from PostgreSQL to a topic the relay has just created: a
 * new topic (a migration to a new name, or one with more partitions) starts with one record per
 * route, partitioned by tenant, so a consumer replaying its tenants' partitions finds every route.
 * Runs on the relay's thread under its advisory lock, before any outbox round: an outbox event
 * still unpublished goes out after the snapshot, so a key's last record on the topic is its newest;
 * a route with such an event is left to it, so a route written as the topic was created is not
 * published twice.
 */
final class StateRepublisher {
    private static final Logger log = LoggerFactory.getLogger(StateRepublisher.class);
    private static final int FETCH = 5_000;
    /**
     * Records sent before waiting for their acknowledgements: a record's delivery timeout runs from
     * its send, so a million queued at once expire in the producer (seen: the whole state sent twice).
     */
    private static final int WINDOW = 10_000;

    /** Every route's state, then every split's, in the columns {@link EventRows#event} takes. */
    private static final List<String> STATE = List.of(
            "SELECT t.name, s.name, n.name, e.version, e.url, e.is_active, e.revision, e.updated_at, e.protocol,"
                    + " e.options::text"
                    + " FROM endpoints e JOIN environments n ON n.id = e.environment_id"
                    + " JOIN services s ON s.id = n.service_id JOIN tenants t ON t.id = s.tenant_id"
                    // a route with an event still in the outbox gets it from there, after this: not twice
                    + " WHERE NOT EXISTS (SELECT 1 FROM route_events ev WHERE ev.endpoint_id = e.id"
                    + " AND ev.published_at IS NULL)",
            "SELECT t.name, s.name, n.name, NULL, NULL, sp.is_active, sp.revision, sp.updated_at, NULL,"
                    + " jsonb_strip_nulls(jsonb_build_object('weights', sp.weights, 'stickyHeader', sp.sticky_header,"
                    + " 'stickyCookie', sp.sticky_cookie))::text"
                    + " FROM splits sp JOIN environments n ON n.id = sp.environment_id"
                    + " JOIN services s ON s.id = n.service_id JOIN tenants t ON t.id = s.tenant_id"
                    + " WHERE NOT EXISTS (SELECT 1 FROM route_events ev WHERE ev.split_id = sp.id"
                    + " AND ev.published_at IS NULL)");

    private final Producer<byte[], byte[]> producer;
    private final String topic;
    private final Duration sendTimeout;

    StateRepublisher(Producer<byte[], byte[]> producer, String topic, Duration sendTimeout) {
        this.producer = producer;
        this.topic = topic;
        this.sendTimeout = sendTimeout;
    }

    /** Sends every route's state and waits for Kafka to take all of it; returns how many. Throws if any send failed. */
    int republish(Connection c) throws SQLException, InterruptedException, ExecutionException, TimeoutException {
        int partitions = producer.partitionsFor(topic).size();
        List<Future<RecordMetadata>> window = new ArrayList<>(WINDOW);
        int sent = 0;
        long started = System.nanoTime();
        for (String query : STATE) {
            try (PreparedStatement statement = c.prepareStatement(query)) {
                statement.setFetchSize(FETCH); // a cursor: a million routes never sit in memory at once
                try (ResultSet rows = statement.executeQuery()) {
                    while (rows.next()) {
                        boolean active = rows.getBoolean(6);
                        String version = rows.getString(4);
                        String type = active ? "updated" : version == null ? "deleted" : "deactivated";
                        ChangeEvent event = EventRows.event(type, rows.getString(1), rows.getString(2), rows.getString(3),
                                version, rows.getString(5), active, rows.getLong(7), rows.getTimestamp(8).getTime(),
                                rows.getString(9), rows.getString(10));
                        window.add(producer.send(EventRows.record(topic, partitions, event)));
                        sent++;
                        if (window.size() == WINDOW) {
                            await(window);
                        }
                    }
                }
            }
        }
        await(window);
        log.info("published the state of {} routes and splits from PostgreSQL to the new topic {} ({} partitions) in {} ms",
                sent, topic, partitions, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
        return sent;
    }

    /** Waits for Kafka to acknowledge every record of the window, then empties it; throws on the first failure. */
    private void await(List<Future<RecordMetadata>> window) throws InterruptedException, ExecutionException, TimeoutException {
        long deadline = System.nanoTime() + sendTimeout.toNanos();
        for (Future<RecordMetadata> future : window) {
            future.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        }
        window.clear();
    }
}
