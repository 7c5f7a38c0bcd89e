package dev.trafficmanager.controlapi;

import dev.trafficmanager.route.ChangeEvent;
import dev.trafficmanager.route.RouteEvent;
import dev.trafficmanager.route.RouteEventCodec;
import dev.trafficmanager.config.KafkaClientSettings;
import dev.trafficmanager.testing.LocalStack;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/** Reads a whole topic from the beginning, every partition, without a consumer group. */
final class TopicReader {
    record Message(String key, ChangeEvent change, int partition, long offset) {
        /** The route's event; null for a split's. */
        RouteEvent event() {
            return change instanceof RouteEvent route ? route : null;
        }
    }

    private TopicReader() {
    }

    /** Polls until {@code done} holds for everything read so far, or the timeout passes. */
    static List<Message> readUntil(String topic, Duration timeout, Predicate<List<Message>> done) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, LocalStack.kafkaBootstrap());
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
        KafkaClientSettings.fromEnv(LocalStack.clientEnv("sidecar")).applyTo(props); // a reader's credentials
        try (KafkaConsumer<byte[], byte[]> consumer =
                     new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            long deadline = System.nanoTime() + timeout.toNanos();
            List<TopicPartition> partitions = new ArrayList<>();
            while (partitions.isEmpty() && System.nanoTime() < deadline) {
                consumer.partitionsFor(topic, Duration.ofSeconds(5))
                        .forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            List<Message> messages = new ArrayList<>();
            while (!done.test(messages) && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    messages.add(new Message(new String(record.key(), StandardCharsets.US_ASCII),
                            RouteEventCodec.decodeChange(record.value()), record.partition(), record.offset()));
                }
            }
            return messages;
        }
    }
}
