package dev.trafficmanager.controlapi.splits;

import dev.trafficmanager.route.Split;
import dev.trafficmanager.route.SplitKey;
import java.time.Instant;

/** A split as the control API stores it; {@code active} false once deleted. */
public record SplitState(SplitKey key, Split split, boolean active, long revision, Instant createdAt, Instant updatedAt) {
}
