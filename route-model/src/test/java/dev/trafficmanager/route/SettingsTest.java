package dev.trafficmanager.route;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.trafficmanager.config.Settings;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SettingsTest {
    @Test
    void usesDefaultsForMissingOrBlankValues() {
        Settings settings = new Settings(Map.of("BLANK", "  "));
        assertThat(settings.string("MISSING", "x")).isEqualTo("x");
        assertThat(settings.integer("BLANK", 7, 1, 10)).isEqualTo(7);
        assertThat(settings.millis("MISSING", 250, 1)).isEqualTo(Duration.ofMillis(250));
    }

    @Test
    void explainsOutOfRangeAndMalformedNumbers() {
        Settings settings = new Settings(Map.of("PORT", "0", "WORKERS", "eight"));
        assertThatThrownBy(() -> settings.integer("PORT", 8081, 1, 65535))
                .hasMessage("PORT: 0 (expected: a whole number from 1 to 65535)");
        assertThatThrownBy(() -> settings.integer("WORKERS", 8, 1, 256))
                .hasMessage("WORKERS: eight (expected: a whole number from 1 to 256)");
    }
}
