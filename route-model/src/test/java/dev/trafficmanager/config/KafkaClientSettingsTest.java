package dev.trafficmanager.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KafkaClientSettingsTest {
    @TempDir
    Path dir;

    @Test
    void aUserAndPasswordMeanSaslScramAndTheFileAndVariablesWinInThatOrder() throws Exception {
        Path file = dir.resolve("kafka.properties");
        Files.writeString(file, "security.protocol=SASL_SSL\nssl.truststore.location=/etc/ca.jks\nsasl.mechanism=SCRAM-SHA-512\n");
        Properties props = KafkaClientSettings.fromEnv(Map.of("TM_KAFKA_USER", "tm-sidecar", "TM_KAFKA_PASSWORD", "p\"w",
                "TM_KAFKA_PROPERTIES_FILE", file.toString(), "TM_KAFKA_CLIENT_SASL_MECHANISM", "SCRAM-SHA-256",
                "TM_KAFKA_CLIENT_SSL_ENDPOINT_IDENTIFICATION_ALGORITHM", "https")).applyTo(new Properties());
        assertThat(props).containsEntry("security.protocol", "SASL_SSL")
                .containsEntry("ssl.truststore.location", "/etc/ca.jks")
                .containsEntry("sasl.mechanism", "SCRAM-SHA-256")
                .containsEntry("ssl.endpoint.identification.algorithm", "https")
                .containsEntry("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required "
                        + "username=\"tm-sidecar\" password=\"p\\\"w\";");
        assertThat(KafkaClientSettings.fromEnv(Map.of("TM_KAFKA_USER", "u", "TM_KAFKA_PASSWORD", "secret")).toString())
                .doesNotContain("secret");
    }

    @Test
    void nothingSetAddsNothingAndHalfACredentialIsRefused() {
        assertThat(KafkaClientSettings.fromEnv(Map.of()).applyTo(new Properties())).isEmpty();
        assertThatThrownBy(() -> KafkaClientSettings.fromEnv(Map.of("TM_KAFKA_USER", "u")))
                .hasMessageStartingWith("TM_KAFKA_PASSWORD: not set");
        assertThatThrownBy(() -> KafkaClientSettings.fromEnv(Map.of("TM_KAFKA_PASSWORD", "p")))
                .hasMessageStartingWith("TM_KAFKA_USER: not set");
        assertThatThrownBy(() -> KafkaClientSettings.fromEnv(Map.of("TM_KAFKA_PROPERTIES_FILE", "/nonexistent")))
                .hasMessageStartingWith("TM_KAFKA_PROPERTIES_FILE: /nonexistent");
    }
}
