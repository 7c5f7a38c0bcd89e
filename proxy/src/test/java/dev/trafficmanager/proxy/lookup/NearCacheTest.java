package dev.trafficmanager.proxy.lookup;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class NearCacheTest {

    /** Where ConcurrentHashMap puts a key in a table of {@code n} buckets. */
    private static int bucket(String key, int n) {
        int h = key.hashCode();
        return (h ^ (h >>> 16)) & (n - 1);
    }

    @Test
    void stayingWithinCapacityDropsEntriesFromEveryPartOfTheTable() {
        NearCache near = new NearCache(1000);
        for (int i = 0; i < 50_000; i++) {
            near.offer(RouteEntry.found("team/svc-" + i + "/prod/v1", "http://svc-" + i + ":8080/", true, 1, 0));
        }
        assertThat(near.size()).isBetween(800, 1000);

        // The survivors must not pile up in one half of the table (dropping whatever an iterator
        // meets first empties the low buckets again and again, and the high ones fill into long bins).
        int low = 0;
        int total = 0;
        for (int i = 0; i < 50_000; i++) {
            String key = "team/svc-" + i + "/prod/v1";
            if (near.get(key) != null) {
                total++;
                if (bucket(key, 2048) < 1024) {
                    low++;
                }
            }
        }
        assertThat(total).isEqualTo(near.size());
        assertThat(low).isBetween(total * 35 / 100, total * 65 / 100);
    }

    @Test
    void anOlderRevisionNeverReplacesANewerOne() {
        NearCache near = new NearCache(10);
        near.offer(RouteEntry.found("team/a/prod/v1", "http://new:1/", true, 5, 0));
        near.offer(RouteEntry.found("team/a/prod/v1", "http://old:1/", true, 4, 0));
        assertThat(near.get("team/a/prod/v1").url()).isEqualTo("http://new:1/");
    }
}
