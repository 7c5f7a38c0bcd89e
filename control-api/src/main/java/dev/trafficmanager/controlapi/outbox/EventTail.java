package dev.trafficmanager.controlapi.outbox;

import dev.trafficmanager.config.KafkaClientSettings;
import dev.trafficmanager.config.Settings;
import dev.trafficmanager.route.ChangeEvent;
import dev.trafficmanager.route.RouteEvent;
import dev.trafficmanager.route.RouteEventCodec;
import dev.trafficmanager.route.SplitEvent;
import dev.trafficmanager.route.TrafficJson;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Prints the route-events topic decoded, from the beginning, one line per record, and exits once
 * nothing new arrived for {@code TM_TAIL_IDLE_MS} (default 3000). For people, not for machines:
 * {@code bash dev/events.sh}.
 */
public final class EventTail {
    private EventTail() {
    }

    public static void main(String[] args) {
        Settings settings = new Settings(System.getenv());
        String topic = args.length > 0 ? args[0] : settings.string("TM_KAFKA_TOPIC", "tm.route-events");
        Duration idle = settings.millis("TM_TAIL_IDLE_MS", 3000, 100);
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.string("TM_KAFKA_BOOTSTRAP", "127.0.0.1:59092"));
        props.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        KafkaClientSettings.fromEnv(System.getenv()).applyTo(props);
        try (KafkaConsumer<byte[], byte[]> consumer =
                     new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(10)).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            if (partitions.isEmpty()) {
                System.err.println("no topic " + topic + " yet (the control API creates it on its first start)");
                return;
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long lastSeen = System.nanoTime();
            while (System.nanoTime() - lastSeen < idle.toNanos()) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    lastSeen = System.nanoTime();
                    ChangeEvent event;
                    try {
                        event = RouteEventCodec.decodeChange(record.value());
                    } catch (IllegalArgumentException e) {
                        System.out.printf("p%d@%d not an event: %s%n", record.partition(), record.offset(), e.getMessage());
                        continue;
                    }
                    String what = event instanceof RouteEvent route ? "url=" + route.url()
                            + (route.options().isDefault() ? "" : " options=" + TrafficJson.toJson(route.options()))
                            : "split=" + TrafficJson.toJson(((SplitEvent) event).split());
                    System.out.printf("p%d@%d key=%s %s rev=%d active=%s %s at=%s%n", record.partition(),
                            record.offset(), new String(record.key(), StandardCharsets.US_ASCII), event.type().wireName(),
                            event.revision(), event.active(), what, Instant.ofEpochMilli(event.occurredAtMillis()));
                }
            }
        }
    }
}
