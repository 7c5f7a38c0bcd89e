package dev.trafficmanager.route;

/** What the route-events topic carries: a route's change or a split's. */
public sealed interface ChangeEvent permits RouteEvent, SplitEvent {
    /** The Kafka record key: the route key's or the split key's string. */
    String keyString();

    String tenant();

    RouteEventType type();

    long revision();

    long occurredAtMillis();

    boolean active();
}
