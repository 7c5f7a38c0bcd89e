package dev.trafficmanager.controlapi.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.trafficmanager.controlapi.http.ApiException;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class AuthFailuresTest {
    private final AtomicLong now = new AtomicLong(1_000_000);
    private final AuthFailures failures = new AuthFailures(3, 60_000, now::get);

    @Test
    void anAddressIsRefusedAfterItsFailuresUntilTheWindowEnds() {
        for (int i = 0; i < 3; i++) {
            assertThatCode(() -> failures.checkAllowed("10.0.0.1")).doesNotThrowAnyException();
            failures.failed("10.0.0.1");
        }
        now.addAndGet(20_000);
        assertThatThrownBy(() -> failures.checkAllowed("10.0.0.1"))
                .isInstanceOfSatisfying(ApiException.class, e -> {
                    assertThat(e.status().code()).isEqualTo(429);
                    assertThat(e.code()).isEqualTo("too_many_auth_failures");
                    assertThat(e.headers()).containsEntry("Retry-After", "40");
                });
        // other addresses are not affected
        assertThatCode(() -> failures.checkAllowed("10.0.0.2")).doesNotThrowAnyException();
        // a new window starts once this one is over
        now.addAndGet(40_000);
        assertThatCode(() -> failures.checkAllowed("10.0.0.1")).doesNotThrowAnyException();
        failures.failed("10.0.0.1");
        assertThatCode(() -> failures.checkAllowed("10.0.0.1")).doesNotThrowAnyException();
    }
}
