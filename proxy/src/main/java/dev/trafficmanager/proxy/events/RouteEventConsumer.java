package dev.trafficmanager.proxy.events;

import dev.trafficmanager.proxy.lookup.Resolver;
import dev.trafficmanager.proxy.metrics.ProxyMetrics;
import dev.trafficmanager.route.ChangeEvent;
import dev.trafficmanager.route.RouteEventCodec;
import dev.trafficmanager.route.TenantPartitions;
import io.micrometer.core.instrument.Counter;
import java.util.Set;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import dev.trafficmanager.config.KafkaClientSettings;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps L1 fresh from {@code tm.route-events}. The relay writes each tenant's events to one partition
 * ({@link TenantPartitions}); a sidecar (or node agent) reads the partitions of the tenants it serves
 * itself (assigned, no consumer group: each needs all of its tenants' routes), or every partition
 * when it serves every tenant, from the beginning at start, so L1 is rebuilt from the compacted
 * topic. Events of other tenants sharing a partition are skipped. Events apply in revision order per
 * key because a key always lands in one partition, and L1 refuses any revision older than it holds.
 *
 * <p>{@link #caughtUp()} turns true once every partition was read up to its end as of the start and
 * those events are in L1: {@code /readyz} waits for it. Runs on its own thread.
 */
public final class RouteEventConsumer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RouteEventConsumer.class);
    /** A fetch returns as soon as an event arrives; these only pace the empty rounds of an idle topic. */
    private static final Duration POLL = Duration.ofMillis(500);
    private static final Duration RETRY = Duration.ofSeconds(1);
    private static final Duration PARTITION_CHECK = Duration.ofSeconds(30);

    private final String topic;
    /** The tenants whose events are read, or null for every tenant. */
    private final Set<String> tenants;
    private final Counter bytesRead;
    private final Counter otherTenants;
    private int partitionCount;
    private final Resolver resolver;
    private final ProxyMetrics metrics;
    private final Properties props = new Properties();
    private final Thread thread;
    private volatile String failure;
    /** Created and used on the consumer thread only. */
    private volatile KafkaConsumer<byte[], byte[]> consumer;
    private long nextPartitionCheck;
    private final java.util.concurrent.CountDownLatch stopping = new java.util.concurrent.CountDownLatch(1);
    private volatile boolean running = true;
    private volatile boolean caughtUp;
    private volatile long lag = -1;
    private Map<TopicPartition, Long> startEnd;
    private long lastEventSequence;

    /**
     * {@code client}: credentials and any client property the operator set, applied over ours;
     * {@code tenants}: the tenants served, or null for all.
     */
    public RouteEventConsumer(String bootstrap, KafkaClientSettings client, String topic, Set<String> tenants,
                              Resolver resolver, ProxyMetrics metrics) {
        this.topic = topic;
        this.tenants = tenants == null ? null : Set.copyOf(tenants);
        this.bytesRead = metrics.counter("tm_kafka_bytes_read", "bytes of route-event records read (keys and values)");
        this.otherTenants = metrics.counter("tm_kafka_events_other_tenants",
                "route events skipped because their tenant is not served here (it shares a partition with one that is)");
        this.resolver = resolver;
        this.metrics = metrics;
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, "tm-sidecar-" + UUID.randomUUID().toString().substring(0, 8));
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, "false");
        props.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "5000");
        props.put(ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
        props.put(ConsumerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "1000");
        props.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "500");
        // At most 4 MiB of records in flight (the default is 50 MiB): reading a large topic from the
        // beginning must fit next to the request path in the sidecar's 64 MiB heap. Measured with
        // 300k route events at -Xmx64m: 27 s and ~100 full collections with the default.
        props.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, String.valueOf(4 << 20));
        client.applyTo(props);
        metrics.gauge("tm_kafka_lag", "route events on the topic not yet read (-1: unknown)", () -> lag);
        metrics.gauge("tm_kafka_caught_up", "1 once L1 holds every event that was on the topic at start",
                () -> caughtUp ? 1 : 0);
        this.thread = new Thread(this::run, "route-events");
        thread.setDaemon(true);
        thread.start();
    }

    public boolean caughtUp() {
        return caughtUp;
    }

    /** Unread events over all partitions, or -1 before the first poll. */
    public long lag() {
        return lag;
    }

    private void run() {
        try {
            while (running) {
                try {
                    if (consumer == null) {
                        // Here, not in the constructor: a bootstrap name that does not resolve yet
                        // must not stop the sidecar from routing what L1 and PostgreSQL know.
                        consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
                    }
                    if (consumer.assignment().isEmpty() && !assign()) {
                        pause();
                        continue;
                    }
                    for (ConsumerRecord<byte[], byte[]> record : consumer.poll(POLL)) {
                        apply(record);
                    }
                    track();
                    checkPartitions();
                } catch (WakeupException e) {
                    break;
                } catch (KafkaException e) {
                    if (!running) {
                        break;
                    }
                    log.warn("reading {}: {}; retrying", topic, e.toString());
                    pause();
                }
            }
        } catch (InterruptedException e) {
            if (running) { // not a close: the L1 writer stopped under it
                stopped(e);
            }
            Thread.currentThread().interrupt();
        } catch (Throwable e) { // an Error too: /healthz must tell, never a silent thread death
            stopped(e);
        } finally {
            if (consumer != null) {
                try {
                    consumer.close(Duration.ofSeconds(2));
                } catch (RuntimeException e) {
                    log.warn("closing the Kafka consumer: {}", e.toString());
                }
            }
        }
    }

    private void stopped(Throwable e) {
        failure = "the Kafka consumer of " + topic + " stopped: " + e;
        log.error("the Kafka consumer of {} stopped; /healthz answers 503 until the sidecar is restarted", topic, e);
    }

    /** Why the consumer thread stopped on its own, or null while it runs (or was closed). */
    public String failure() {
        return failure;
    }

    /** Waits before a retry; close() ends the wait (no interrupt: it would break the consumer's close). */
    private void pause() throws InterruptedException {
        stopping.await(RETRY.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    /**
     * Every 30 s: when partitions were added, the partitions the served tenants map to now are read
     * too, from their beginning, and the old ones still (they hold the tenants' routes written before).
     */
    private void checkPartitions() {
        long now = System.nanoTime();
        if (now < nextPartitionCheck) {
            return;
        }
        nextPartitionCheck = now + PARTITION_CHECK.toNanos();
        List<PartitionInfo> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(5));
        if (partitions == null || partitions.size() <= partitionCount) {
            return;
        }
        partitionCount = partitions.size();
        Set<TopicPartition> all = new java.util.LinkedHashSet<>(consumer.assignment());
        all.addAll(served(partitions));
        List<TopicPartition> added = all.stream().filter(p -> !consumer.assignment().contains(p)).toList();
        consumer.assign(all);
        consumer.seekToBeginning(added);
        log.warn("{} now has {} partitions: reading {} more from the beginning. Tenants move between partitions when "
                + "partitions are added; a restarted reader finds only what was written since: migrate to a new topic "
                + "(see the README)", topic, partitionCount, added.size());
    }

    /** The partitions holding the served tenants' events (all of them when every tenant is served). */
    private List<TopicPartition> served(List<PartitionInfo> partitions) {
        if (tenants == null) {
            return partitions.stream().map(p -> new TopicPartition(topic, p.partition())).toList();
        }
        return TenantPartitions.of(tenants, partitions.size()).stream().map(p -> new TopicPartition(topic, p)).toList();
    }

    /** Assigns the served partitions from the beginning and notes where "caught up" is. */
    private boolean assign() {
        List<PartitionInfo> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(5));
        if (partitions == null || partitions.isEmpty()) {
            log.info("topic {} does not exist yet; waiting for the control API to create it", topic);
            return false;
        }
        partitionCount = partitions.size();
        List<TopicPartition> assigned = served(partitions);
        Map<TopicPartition, Long> end = consumer.endOffsets(assigned, Duration.ofSeconds(5));
        consumer.assign(assigned);
        consumer.seekToBeginning(assigned);
        startEnd = new HashMap<>(end);
        nextPartitionCheck = System.nanoTime() + PARTITION_CHECK.toNanos();
        log.info("reading {} of the {} partitions of {} from the beginning ({} offsets to catch up)", assigned.size(),
                partitionCount, topic,
                end.values().stream().mapToLong(Long::longValue).sum());
        return true;
    }

    private void apply(ConsumerRecord<byte[], byte[]> record) throws InterruptedException {
        bytesRead.increment(Math.max(0, record.serializedKeySize()) + Math.max(0, record.serializedValueSize()));
        ChangeEvent event;
        try {
            event = RouteEventCodec.decodeChange(record.value());
        } catch (RuntimeException e) {
            metrics.eventsUndecodable().increment();
            log.warn("skipping record {}-{}@{}: not a route event ({})", record.topic(), record.partition(),
                    record.offset(), e.getMessage());
            return;
        }
        if (tenants != null && !tenants.contains(event.tenant())) {
            otherTenants.increment();
            return;
        }
        lastEventSequence = resolver.applyEvent(event, caughtUp);
    }

    private void track() {
        long total = 0;
        boolean known = true;
        boolean reachedStartEnd = true;
        for (TopicPartition partition : consumer.assignment()) {
            var partitionLag = consumer.currentLag(partition);
            if (partitionLag.isPresent()) {
                total += partitionLag.getAsLong();
            } else {
                known = false;
            }
            if (!caughtUp && consumer.position(partition, Duration.ofSeconds(5)) < startEnd.getOrDefault(partition, 0L)) {
                reachedStartEnd = false;
            }
        }
        lag = known ? total : lag;
        if (!caughtUp && reachedStartEnd && resolver.eventsDone() >= lastEventSequence) {
            caughtUp = true;
            log.info("L1 holds every route event of {} ({} routes in L1)", topic, resolver.l1().size());
        }
    }

    @Override
    public void close() {
        running = false;
        KafkaConsumer<byte[], byte[]> current = consumer;
        if (current != null) {
            current.wakeup();
        }
        stopping.countDown();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
