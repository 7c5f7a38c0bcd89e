package dev.trafficmanager.controlapi.routes;

import dev.trafficmanager.route.Route;
import java.util.List;

/** One page of a listing; {@code nextAfterId} is null on the last page. */
public record RoutePage(List<Route> routes, Long nextAfterId) {
}
