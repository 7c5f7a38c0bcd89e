package dev.trafficmanager.controlapi.outbox;

import dev.trafficmanager.route.ChangeEvent;
import dev.trafficmanager.route.TenantPartitions;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes the outbox ({@code route_events} rows not yet published) to the route-events topic,
 * key = route key, in id order, to the partition of the route's tenant ({@link TenantPartitions}),
 * then stamps the rows published in the same transaction that locked them. A topic the relay had
 * to create first gets every route's current state ({@link StateRepublisher}).
 *
 * <p>Several control-API instances may run: each relay transaction first takes a transaction-scoped
 * advisory lock, so one instance publishes at a time and per-key order on the topic follows commit
 * order (a compacted topic keeps the last record per key, so an older revision published after a
 * newer one would win there). Rows are also locked {@code FOR UPDATE SKIP LOCKED}. Within a round a
 * key's events go out one acknowledgement at a time (see {@link #publish}), so an event whose send
 * failed is retried on the next round before any later event of its key is sent. While Kafka is
 * down the relay backs off and events wait; writes never do.
 *
 * <p>Runs on its own thread; {@link #wakeUp()} may be called from any thread.
 */
public final class OutboxRelay implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(OutboxRelay.class);
    /** Any constant unique to this use; "tm_outbo" in ASCII. */
    private static final long ADVISORY_LOCK_KEY = 0x746d5f6f7574626fL;
    /** At most this long between failed rounds, so events flow again within a few seconds of Kafka's return. */
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(2);
    private static final Duration WARNING_INTERVAL = Duration.ofMinutes(1);

    private final DataSource dataSource;
    private final Producer<byte[], byte[]> producer;
    private final TopicSetup topicSetup;
    private final String topic;
    private final int batchSize;
    private final Duration pollInterval;
    private final Duration sendTimeout;
    private final StateRepublisher republisher;
    /** The relay created the topic and has yet to publish the state of every route to it. */
    private boolean republishDue;
    /** A round has published since the start (the topic exists, and takes records). */
    private volatile boolean published;
    private final AtomicLong publishedCount = new AtomicLong();
    private final AtomicLong failedRounds = new AtomicLong();
    private final Semaphore wake = new Semaphore(0);
    private final Thread thread;
    private volatile boolean running = true;

    public OutboxRelay(DataSource dataSource, Producer<byte[], byte[]> producer, TopicSetup topicSetup, String topic,
                       int batchSize, Duration pollInterval, Duration sendTimeout) {
        this.dataSource = dataSource;
        this.producer = producer;
        this.topicSetup = topicSetup;
        this.topic = topic;
        this.batchSize = batchSize;
        this.pollInterval = pollInterval;
        this.sendTimeout = sendTimeout;
        this.republisher = new StateRepublisher(producer, topic, sendTimeout.multipliedBy(10));
        this.thread = new Thread(this::loop, "outbox-relay");
        this.thread.setDaemon(true);
    }

    public void start() {
        thread.start();
    }

    /** Whether a round has succeeded since the start: the topic exists and (after a republish) takes records. */
    public boolean published() {
        return published;
    }

    /** Events published to Kafka since the start. */
    public double publishedCount() {
        return publishedCount.get();
    }

    /** Rounds that failed since the start. */
    public double failedRounds() {
        return failedRounds.get();
    }

    /** Asks the relay to look at the outbox now rather than at its next poll. */
    public void wakeUp() {
        if (wake.availablePermits() == 0) {
            wake.release();
        }
    }

    private void loop() {
        int failures = 0;
        long lastWarning = 0;
        while (running) {
            try {
                republishDue |= topicSetup.ensureTopic();
                if (republishDue) {
                    republishDue = !republish();
                }
                int sent = relayOnce();
                publishedCount.addAndGet(sent);
                published = true;
                if (failures > 0) {
                    log.info("outbox relay is publishing again after {} failed rounds", failures);
                }
                failures = 0;
                if (sent < batchSize) {
                    awaitWake(pollInterval);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                running = false;
            } catch (Exception e) {
                failures++;
                failedRounds.incrementAndGet();
                if (failures == 1 || System.nanoTime() - lastWarning > WARNING_INTERVAL.toNanos()) {
                    log.warn("outbox relay cannot publish ({} failed rounds); events wait in the outbox: {}",
                            failures, e.toString());
                    lastWarning = System.nanoTime();
                } else {
                    log.debug("outbox relay still failing", e);
                }
                awaitWake(backoff(failures));
            }
        }
    }

    /** The state of every route, under the relay's lock; false when another instance holds it (try again). */
    private boolean republish() throws Exception {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                if (!tryLock(c)) {
                    return false;
                }
                republisher.republish(c);
                return true;
            } finally {
                c.rollback(); // nothing was written: this ends the transaction and its lock
            }
        }
    }

    /** Publishes at most one batch; returns how many events it marked published. */
    int relayOnce() throws SQLException, InterruptedException {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                if (!tryLock(c)) {
                    c.rollback();
                    return 0;
                }
                List<Pending> batch = unpublished(c);
                quarantine(c, batch);
                batch.removeIf(pending -> pending.event() == null);
                Outcome outcome = publish(batch);
                markPublished(c, outcome.published());
                c.commit();
                if (outcome.failure() != null) {
                    throw new IllegalStateException("Kafka did not take " + (batch.size() - outcome.published().size())
                            + " of " + batch.size() + " events", outcome.failure());
                }
                return outcome.published().size();
            } catch (SQLException | RuntimeException | InterruptedException e) {
                try {
                    c.rollback();
                } catch (SQLException rollbackFailure) {
                    e.addSuppressed(rollbackFailure);
                }
                throw e;
            }
        }
    }

    /** An outbox row; {@code event} is null when the row cannot be encoded, with {@code error} saying why. */
    private record Pending(long id, String key, ChangeEvent event, String error) {
    }

    private record Outcome(List<Long> published, Exception failure) {
    }

    /**
     * Sends the batch in waves: each wave holds the oldest unsent event of every key, and a key's next
     * event goes out only after Kafka acknowledged the previous one. The producer alone does not
     * guarantee that: when a batch of one key expires while the broker is away, a later batch of the
     * same key may still be delivered once it is back, ahead of the retried one. The first failure
     * ends the round; events of other keys acknowledged in that wave still count as published.
     */
    private Outcome publish(List<Pending> batch) throws InterruptedException {
        Map<String, ArrayDeque<Pending>> byKey = new LinkedHashMap<>();
        for (Pending pending : batch) {
            byKey.computeIfAbsent(pending.key(), key -> new ArrayDeque<>()).add(pending);
        }
        List<Long> published = new ArrayList<>(batch.size());
        Exception failure = null;
        int partitions;
        try {
            partitions = batch.isEmpty() ? 1 : producer.partitionsFor(topic).size();
        } catch (RuntimeException e) {
            return new Outcome(published, e); // no metadata: Kafka is down
        }
        while (!byKey.isEmpty() && failure == null) {
            // Per wave, and longer than the producer's delivery timeout, so every send of the wave has
            // an outcome before the next: none is left in the producer to land after a retry.
            long deadline = System.nanoTime() + sendTimeout.toNanos();
            List<Pending> wave = new ArrayList<>(byKey.size());
            List<Future<RecordMetadata>> sent = new ArrayList<>(byKey.size());
            for (Iterator<ArrayDeque<Pending>> keys = byKey.values().iterator(); keys.hasNext(); ) {
                ArrayDeque<Pending> ofKey = keys.next();
                Pending next = ofKey.poll();
                if (ofKey.isEmpty()) {
                    keys.remove();
                }
                try {
                    sent.add(producer.send(EventRows.record(topic, partitions, next.event())));
                    wave.add(next);
                } catch (RuntimeException e) {
                    failure = e; // e.g. no metadata within max.block.ms: Kafka is down; send nothing more
                    break;
                }
            }
            for (int i = 0; i < sent.size(); i++) {
                try {
                    sent.get(i).get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                    published.add(wave.get(i).id());
                } catch (ExecutionException | TimeoutException e) {
                    failure = failure == null ? e : failure;
                }
            }
        }
        return new Outcome(published, failure);
    }

    private static boolean tryLock(Connection c) throws SQLException {
        try (PreparedStatement statement = c.prepareStatement("SELECT pg_try_advisory_xact_lock(?)")) {
            statement.setLong(1, ADVISORY_LOCK_KEY);
            try (ResultSet rows = statement.executeQuery()) {
                rows.next();
                return rows.getBoolean(1);
            }
        }
    }

    private List<Pending> unpublished(Connection c) throws SQLException {
        try (PreparedStatement statement = c.prepareStatement(
                "SELECT ev.id, ev.event_type, t.name, s.name, e.name, p.version, ev.url, ev.is_active, ev.revision,"
                        + " ev.occurred_at, ev.protocol, ev.options::text"
                        + " FROM route_events ev"
                        + " LEFT JOIN endpoints p ON p.id = ev.endpoint_id"
                        + " LEFT JOIN splits sp ON sp.id = ev.split_id"
                        + " JOIN environments e ON e.id = COALESCE(p.environment_id, sp.environment_id)"
                        + " JOIN services s ON s.id = e.service_id"
                        + " JOIN tenants t ON t.id = s.tenant_id"
                        + " WHERE ev.published_at IS NULL ORDER BY ev.id LIMIT ? FOR UPDATE OF ev SKIP LOCKED")) {
            statement.setInt(1, batchSize);
            List<Pending> batch = new ArrayList<>();
            try (ResultSet rows = statement.executeQuery()) {
                while (rows.next()) {
                    long id = rows.getLong(1);
                    String version = rows.getString(6);
                    String key = rows.getString(3) + '/' + rows.getString(4) + '/' + rows.getString(5)
                            + (version == null ? "" : "/" + version);
                    try {
                        batch.add(new Pending(id, key, EventRows.event(rows.getString(2), rows.getString(3),
                                rows.getString(4), rows.getString(5), version, rows.getString(7), rows.getBoolean(8),
                                rows.getLong(9), rows.getTimestamp(10).getTime(), rows.getString(11), rows.getString(12)),
                                null));
                    } catch (IllegalArgumentException e) { // InvalidRouteException included
                        batch.add(new Pending(id, key, null, e.getMessage()));
                    }
                }
            }
            return batch;
        }
    }

    /**
     * Stamps rows that cannot be encoded with their error, so one bad row (only a manual write could
     * make one) does not stall the outbox; each is logged as an error with its id and route.
     */
    private static void quarantine(Connection c, List<Pending> batch) throws SQLException {
        for (Pending pending : batch) {
            if (pending.event() != null) {
                continue;
            }
            log.error("outbox event id={} of route {} cannot be published and is skipped: {}", pending.id(),
                    pending.key(), pending.error());
            try (PreparedStatement statement = c.prepareStatement(
                    "UPDATE route_events SET published_at = now(), publish_error = ? WHERE id = ?")) {
                statement.setString(1, pending.error());
                statement.setLong(2, pending.id());
                statement.executeUpdate();
            }
        }
    }

    private static void markPublished(Connection c, List<Long> ids) throws SQLException {
        if (ids.isEmpty()) {
            return;
        }
        try (PreparedStatement statement = c.prepareStatement(
                "UPDATE route_events SET published_at = now() WHERE id = ANY (?)")) {
            Array array = c.createArrayOf("bigint", ids.toArray());
            statement.setArray(1, array);
            statement.executeUpdate();
        }
    }

    private static Duration backoff(int failures) {
        long millis = 100L << Math.min(failures, 6);
        return Duration.ofMillis(Math.min(millis, MAX_BACKOFF.toMillis()));
    }

    private void awaitWake(Duration timeout) {
        try {
            if (wake.tryAcquire(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                wake.drainPermits();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        }
    }

    @Override
    public void close() {
        running = false;
        wake.release();
        try {
            // a round in flight ends within the send timeout (Kafka) plus the statement timeout
            thread.join(sendTimeout.plusSeconds(10).toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        producer.close(Duration.ofSeconds(5));
        topicSetup.close();
    }
}
