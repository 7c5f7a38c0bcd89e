package dev.trafficmanager.controlapi.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ClientAddressesTest {
    private final ClientAddresses behindBalancers = ClientAddresses.parse("10.0.0.0/8, 192.168.1.7, fd00::/8");

    @Test
    void withoutTrustedProxiesThePeerCountsAndForwardedForIsIgnored() {
        assertThat(ClientAddresses.NO_PROXIES.key("10.1.2.3", "203.0.113.9")).isEqualTo("10.1.2.3");
        assertThat(behindBalancers.key("198.51.100.4", "203.0.113.9")).as("an untrusted peer's header").isEqualTo("198.51.100.4");
    }

    @Test
    void aTrustedProxyNamesTheClientItSaw() {
        assertThat(behindBalancers.key("10.1.2.3", "203.0.113.9")).isEqualTo("203.0.113.9");
        assertThat(behindBalancers.key("192.168.1.7", "203.0.113.9")).isEqualTo("203.0.113.9");
        // a client forging entries further left changes nothing: the right-most untrusted hop counts
        assertThat(behindBalancers.key("10.1.2.3", "1.1.1.1, 203.0.113.9, 10.9.9.9")).isEqualTo("203.0.113.9");
        // every hop trusted: the left-most
        assertThat(behindBalancers.key("10.1.2.3", "10.2.2.2")).isEqualTo("10.2.2.2");
        // garbage stops the walk at the last good address
        assertThat(behindBalancers.key("10.1.2.3", "evil.example, 10.4.4.4")).isEqualTo("10.4.4.4");
    }

    @Test
    void anIpv6ClientCountsByItsSlash64() {
        String a = behindBalancers.key("2001:db8:1:2::10", null);
        String b = behindBalancers.key("2001:db8:1:2:ffff::1", null);
        assertThat(a).isEqualTo(b).isEqualTo("2001:db8:1:2::/64");
        assertThat(behindBalancers.key("fd00::1", "2001:db8:9:9::1")).isEqualTo("2001:db8:9:9::/64");
        assertThat(behindBalancers.key("2001:db8:1:3::10", null)).isNotEqualTo(a);
    }

    @Test
    void badSettingsAreRefusedByName() {
        for (String bad : new String[] {"lb.example", "10.0.0.0/33", "10.0.0.0/x", "::/129"}) {
            assertThatThrownBy(() -> ClientAddresses.parse(bad)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("TM_API_TRUSTED_PROXIES").hasMessageContaining(bad.split("/")[0]);
        }
    }

    @Test
    void theFailureMapStaysBoundedUnderManyAddresses() {
        AtomicLong now = new AtomicLong(1_000_000);
        AuthFailures failures = new AuthFailures(3, 60_000, now::get);
        for (int i = 0; i < AuthFailures.MAX_TRACKED * 2; i++) {
            failures.failed("client-" + i);
            if (i % 1000 == 0) {
                now.incrementAndGet();
            }
        }
        assertThat(failures.tracked()).isLessThanOrEqualTo(AuthFailures.MAX_TRACKED + 1);
    }
}
