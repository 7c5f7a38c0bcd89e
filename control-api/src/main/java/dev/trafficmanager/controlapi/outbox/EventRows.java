package dev.trafficmanager.controlapi.outbox;

import dev.trafficmanager.route.ChangeEvent;
import dev.trafficmanager.route.RouteEvent;
import dev.trafficmanager.route.RouteEventCodec;
import dev.trafficmanager.route.RouteEventType;
import dev.trafficmanager.route.RouteKey;
import dev.trafficmanager.route.RouteProtocol;
import dev.trafficmanager.route.SplitEvent;
import dev.trafficmanager.route.SplitKey;
import dev.trafficmanager.route.TenantPartitions;
import dev.trafficmanager.route.TrafficJson;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import org.apache.kafka.clients.producer.ProducerRecord;

/** Events from outbox and state rows, and their Kafka records: one mapping for the relay and the republisher. */
final class EventRows {
    private EventRows() {
    }

    /**
     * The event of a route's row ({@code version} set) or a split's ({@code version} null, its weights
     * in {@code options}). Throws {@link IllegalArgumentException} for a row that breaks the model.
     */
    static ChangeEvent event(String type, String tenant, String service, String env, String version, String url,
                             boolean active, long revision, long occurredAt, String protocol, String options) {
        RouteEventType eventType = RouteEventType.valueOf(type.toUpperCase(Locale.ROOT));
        if (version == null) {
            return new SplitEvent(eventType, new SplitKey(tenant, service, env), TrafficJson.split(TrafficJson.parse(options)),
                    active, revision, occurredAt);
        }
        return new RouteEvent(eventType, new RouteKey(tenant, service, env, version), url, active, revision, occurredAt,
                RouteProtocol.parse(protocol), TrafficJson.options(options));
    }

    /** The record of {@code event}: keyed by its route or split key, in its tenant's partition. */
    static ProducerRecord<byte[], byte[]> record(String topic, int partitions, ChangeEvent event) {
        return new ProducerRecord<>(topic, TenantPartitions.of(event.tenant(), partitions),
                event.keyString().getBytes(StandardCharsets.US_ASCII), RouteEventCodec.encode(event));
    }
}
