package dev.trafficmanager.controlapi.routes;

import dev.trafficmanager.route.Route;

/** A route with the row id it has in {@code endpoints} (for paging and event rows). */
record StoredRoute(long id, Route route) {
}
