package dev.trafficmanager.controlapi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ControlApiConfigTest {
    @Test
    void defaultsFitTheLocalStack() {
        ControlApiConfig config = ControlApiConfig.fromEnv(Map.of("TM_ADMIN_TOKEN", "0123456789abcdef"));
        assertThat(config.port()).isEqualTo(8081);
        assertThat(config.dbUrl()).isEqualTo("jdbc:postgresql://127.0.0.1:55432/trafficmanager");
        assertThat(config.kafkaBootstrap()).isEqualTo("127.0.0.1:59092");
        assertThat(config.topic()).isEqualTo("tm.route-events");
        assertThat(config.maxBodyBytes()).isEqualTo(65536);
        assertThat(config.dbPoolSize()).isEqualTo(config.workerThreads() + 2);
        assertThat(config.dbTimeout()).isEqualTo(Duration.ofSeconds(2));
    }

    @Test
    void refusesAMissingOrShortAdminTokenAndBadNumbers() {
        assertThatThrownBy(() -> ControlApiConfig.fromEnv(Map.of()))
                .hasMessageStartingWith("TM_ADMIN_TOKEN: not set");
        assertThatThrownBy(() -> ControlApiConfig.fromEnv(Map.of("TM_ADMIN_TOKEN", "short")))
                .hasMessageContaining("5 characters");
        assertThatThrownBy(() -> ControlApiConfig.fromEnv(Map.of("TM_ADMIN_TOKEN", "0123456789abcdef",
                "TM_API_PORT", "http")))
                .hasMessage("TM_API_PORT: http (expected: a whole number from 0 to 65535)");
        assertThatThrownBy(() -> ControlApiConfig.fromEnv(Map.of("TM_ADMIN_TOKEN", "0123456789abcdef",
                "TM_API_UPSTREAM_GUARD", "yes")))
                .hasMessage("TM_API_UPSTREAM_GUARD: yes (expected: on or off)");
    }
}
