package dev.trafficmanager.route;

import java.util.Objects;

/**
 * One change of a split: its full state after the change ({@code active} false once deleted; the
 * weights are the last ones), like a {@link RouteEvent}.
 */
public record SplitEvent(RouteEventType type, SplitKey key, Split split, boolean active, long revision,
                         long occurredAtMillis) implements ChangeEvent {

    public SplitEvent {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(split, "split");
        if (revision < 1) {
            throw new IllegalArgumentException("revision: " + revision + " (expected: >= 1)");
        }
    }

    @Override
    public String keyString() {
        return key.toString();
    }

    @Override
    public String tenant() {
        return key.tenant();
    }
}
