package dev.trafficmanager.controlapi.routes;

import dev.trafficmanager.route.Route;

/** The outcome of a write: the route as it now is, and whether the write created or changed it. */
public record RouteChange(Route route, boolean created, boolean changed) {
}
