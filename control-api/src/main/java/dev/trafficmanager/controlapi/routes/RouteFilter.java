package dev.trafficmanager.controlapi.routes;

/** What a listing selects: a tenant and optionally a service, an env and an active flag (null: any). */
public record RouteFilter(String tenant, String service, String env, Boolean active) {
}
