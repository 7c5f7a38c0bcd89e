package dev.trafficmanager.route;

import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.common.utils.Utils;

/**
 * Which partition of the route-events topic holds a tenant's events: every key of one tenant goes
 * to one partition (so per-key order holds and a consumer of a few tenants reads a few partitions),
 * chosen by the hash Kafka's default partitioner uses for keys (murmur2), applied to the tenant's
 * name. The relay writes by it and every consumer reads by it, so both sides must agree on the
 * topic's partition count: adding partitions moves tenants (see the README's migration notes).
 */
public final class TenantPartitions {
    private TenantPartitions() {
    }

    /** The partition of {@code tenant}'s events in a topic of {@code partitions} partitions. */
    public static int of(String tenant, int partitions) {
        if (partitions < 1) {
            throw new IllegalArgumentException("partitions: " + partitions + " (expected: at least 1)");
        }
        return Utils.toPositive(Utils.murmur2(tenant.getBytes(StandardCharsets.UTF_8))) % partitions;
    }

    /** The partitions holding the events of {@code tenants}, in order. */
    public static Set<Integer> of(Collection<String> tenants, int partitions) {
        Set<Integer> out = new TreeSet<>();
        for (String tenant : tenants) {
            out.add(of(tenant, partitions));
        }
        return out;
    }

    /** The tenant of a route key ({@code tenant/service/env/version}), or the whole key when it has no slash. */
    public static String tenantOf(String key) {
        int slash = key.indexOf('/');
        return slash < 0 ? key : key.substring(0, slash);
    }
}
