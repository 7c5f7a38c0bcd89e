package dev.trafficmanager.controlapi.outbox;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates the compacted route-events topic if it is missing. Called by the relay before each
 * round until it has succeeded once, then closes its admin client (which would otherwise keep
 * reconnecting, and logging, through every Kafka outage). The relay's thread is the only caller.
 */
public final class TopicSetup implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TopicSetup.class);

    private final Admin admin;
    private final String topic;
    private final int partitions;
    private final short replication;
    private boolean done;
    private boolean closed;

    public TopicSetup(Admin admin, String topic, int partitions, short replication) {
        this.admin = admin;
        this.topic = topic;
        this.partitions = partitions;
        this.replication = replication;
    }

    /** Returns true once: when this call created the topic (then it holds no route yet). */
    public boolean ensureTopic() throws InterruptedException, ExecutionException, TimeoutException {
        if (done) {
            return false;
        }
        boolean created = true;
        NewTopic newTopic = new NewTopic(topic, partitions, replication).configs(Map.of(
                TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT,
                TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG, "1"));
        try {
            admin.createTopics(List.of(newTopic)).all().get(10, TimeUnit.SECONDS);
            awaitLeaders();
            log.info("created compacted topic {} with {} partitions", topic, partitions);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw e;
            }
            created = false;
        }
        done = true;
        close();
        return created;
    }

    /**
     * Waits (up to 10 s) until every partition of the new topic has a leader: the relay publishes to
     * it at once, and sends to a partition whose leader the broker has not settled yet fail with
     * NOT_LEADER_OR_FOLLOWER until the producer's delivery timeout (seen on a loaded machine).
     */
    private void awaitLeaders() throws InterruptedException, ExecutionException, TimeoutException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            TopicDescription description = admin.describeTopics(List.of(topic)).allTopicNames().get(10, TimeUnit.SECONDS)
                    .get(topic);
            if (description != null && description.partitions().size() == partitions
                    && description.partitions().stream().allMatch(p -> p.leader() != null && !p.leader().isEmpty())) {
                return;
            }
            Thread.sleep(50); // polling the broker's metadata with a deadline; nothing to wait on instead
        }
        log.warn("not every partition of {} had a leader 10 s after its creation; publishing anyway", topic);
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            admin.close(java.time.Duration.ofSeconds(5));
        }
    }
}
