package dev.trafficmanager.controlapi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.trafficmanager.config.KafkaClientSettings;
import dev.trafficmanager.route.RouteEvent;
import dev.trafficmanager.route.RouteEventCodec;
import dev.trafficmanager.route.RouteEventType;
import dev.trafficmanager.route.RouteKey;
import dev.trafficmanager.testing.LocalStack;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The local stack requires credentials on every tier, and each client's only allow what it needs:
 * the sidecar reads PostgreSQL and the topic, and uses Redis's route keys; nobody else gets in.
 */
@ExtendWith(LocalStack.class)
class StackCredentialsTest {
    private static TestControlApi api;

    @BeforeAll
    static void start() throws InterruptedException {
        api = TestControlApi.start(); // migrates the test database and creates its topic
    }

    @AfterAll
    static void stop() {
        api.close();
    }

    private static KafkaProducer<byte[], byte[]> producer(Map<String, String> clientEnv) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, LocalStack.kafkaBootstrap());
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 5000);
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 5000);
        props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 4000);
        KafkaClientSettings.fromEnv(clientEnv).applyTo(props);
        return new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
    }

    private static void send(KafkaProducer<byte[], byte[]> producer) throws Exception {
        RouteEvent event = new RouteEvent(RouteEventType.CREATED, RouteKey.parse("t/s/e/v1"), "http://a:1/", true, 1, 0);
        producer.send(new ProducerRecord<>(api.topic, event.key().toString().getBytes(StandardCharsets.US_ASCII),
                RouteEventCodec.encode(event))).get();
    }

    @Test
    void theSidecarsKafkaUserCannotWriteTheTopicAndAnonymousClientsCannotConnect() throws Exception {
        try (KafkaProducer<byte[], byte[]> sidecar = producer(LocalStack.clientEnv("sidecar"))) {
            // Cluster (the idempotent producer's init) or topic authorization: on the send's future, or thrown
            // by send() itself when the producer's init already failed ("error state", the refusal as its cause).
            assertThatThrownBy(() -> send(sidecar)).satisfies(e -> {
                boolean refused = false;
                for (Throwable cause = e; cause != null; cause = cause.getCause()) {
                    refused |= cause instanceof AuthorizationException;
                }
                assertThat(refused).as("an authorization refusal in %s", e.toString()).isTrue();
            });
        }
        try (KafkaProducer<byte[], byte[]> anonymous = producer(Map.of())) {
            // PLAINTEXT against a SASL listener: no metadata, ever
            assertThatThrownBy(() -> send(anonymous)).satisfiesAnyOf(
                    e -> assertThat(e).isInstanceOf(TimeoutException.class),
                    e -> assertThat(e).hasCauseInstanceOf(TimeoutException.class));
        }
        try (KafkaProducer<byte[], byte[]> wrongPassword = producer(Map.of("TM_KAFKA_USER", "tm-control-api",
                "TM_KAFKA_PASSWORD", "not-the-password"))) {
            assertThatThrownBy(() -> send(wrongPassword)).hasStackTraceContaining("Authentication failed");
        }
        try (KafkaProducer<byte[], byte[]> controlApi = producer(LocalStack.clientEnv("control-api"))) {
            send(controlApi); // the positive control: the right user may write
        }
        // The topic also holds the test database's routes, published when the relay created it.
        assertThat(TopicReader.readUntil(api.topic, Duration.ofSeconds(10),
                messages -> messages.stream().anyMatch(m -> m.key().equals("t/s/e/v1")))
                .stream().filter(m -> m.key().equals("t/s/e/v1")).toList())
                .as("only the control API's record").hasSize(1);
    }

    @Test
    void redisRefusesClientsWithoutAuthAndTheSidecarsUserOutsideItsKeys() throws Exception {
        URI redis = URI.create(LocalStack.redisUrl());
        assertThat(redisCommand(redis, "PING")).startsWith("-NOAUTH");
        String[] credentials = redis.getUserInfo().split(":", 2);
        String auth = "AUTH " + credentials[0] + " " + credentials[1];
        assertThat(redisCommand(redis, auth, "SET tm:route:t/s/e/v x")).isEqualTo("+OK");
        assertThat(redisCommand(redis, auth, "SET other-key x")).startsWith("-NOPERM");
        assertThat(redisCommand(redis, auth, "FLUSHALL")).startsWith("-NOPERM");
        assertThat(redisCommand(redis, auth, "CONFIG SET requirepass x")).startsWith("-NOPERM");
    }

    @Test
    void theSidecarsDatabaseRoleMayOnlyReadTheRouteTables() throws Exception {
        Map<String, String> sidecar = LocalStack.clientEnv("sidecar");
        try (Connection c = DriverManager.getConnection(TestControlApi.jdbcUrl(), sidecar.get("TM_DB_USER"),
                sidecar.get("TM_DB_PASSWORD")); Statement statement = c.createStatement()) {
            try (ResultSet rows = statement.executeQuery("SELECT count(*) FROM endpoints e JOIN environments n "
                    + "ON n.id = e.environment_id JOIN services s ON s.id = n.service_id JOIN tenants t ON t.id = s.tenant_id")) {
                assertThat(rows.next()).isTrue();
            }
            for (String write : new String[] {"INSERT INTO tenants (name) VALUES ('intruder')",
                "UPDATE endpoints SET url = 'http://evil:1/'", "DELETE FROM services", "SELECT * FROM api_tokens",
                "SELECT * FROM route_events", "CREATE TABLE planted (x int)"}) {
                assertThatThrownBy(() -> statement.execute(write)).as(write).isInstanceOf(SQLException.class)
                        .hasMessageContaining("permission denied");
            }
        }
    }

    /** Sends each command (inline protocol) on one connection; returns the last reply's first line. */
    private static String redisCommand(URI redis, String... commands) throws Exception {
        try (Socket socket = new Socket(redis.getHost(), redis.getPort())) {
            socket.setSoTimeout(5000);
            String reply = null;
            InputStream in = socket.getInputStream();
            for (String command : commands) {
                socket.getOutputStream().write((command + "\r\n").getBytes(StandardCharsets.US_ASCII));
                StringBuilder line = new StringBuilder();
                for (int b; (b = in.read()) != '\n' && b >= 0; ) {
                    if (b != '\r') {
                        line.append((char) b);
                    }
                }
                reply = line.toString();
            }
            return reply;
        }
    }
}
