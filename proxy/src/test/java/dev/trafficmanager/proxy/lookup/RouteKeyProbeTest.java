package dev.trafficmanager.proxy.lookup;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

class RouteKeyProbeTest {

    @Test
    void readsHashesAndEqualsLikeTheCanonicalKeyString() {
        RouteKeyProbe probe = new RouteKeyProbe().set("team-a", "payments", "prod", "v1");
        String key = "team-a/payments/prod/v1";
        assertThat(probe.toString()).isEqualTo(key);
        assertThat(probe.length()).isEqualTo(key.length());
        assertThat(probe.hashCode()).isEqualTo(key.hashCode());
        assertThat(probe.equals(key)).isTrue();
        assertThat(probe.equals("team-a/payments/prod/v2")).isFalse();
        assertThat(probe.equals("team-a/payments/prodv1/")).isFalse();
        for (int i = 0; i < key.length(); i++) {
            assertThat(probe.charAt(i)).isEqualTo(key.charAt(i));
        }
    }

    @Test
    void findsEntriesOfAMapKeyedByCanonicalStrings() {
        ConcurrentHashMap<String, Integer> map = new ConcurrentHashMap<>();
        for (int i = 0; i < 1000; i++) {
            map.put("t/s/e/v" + i, i);
        }
        RouteKeyProbe probe = new RouteKeyProbe();
        assertThat(map.get(probe.set("t", "s", "e", "v517"))).isEqualTo(517);
        assertThat(map.get(probe.set("t", "s", "e", "v1000"))).isNull();
    }
}
