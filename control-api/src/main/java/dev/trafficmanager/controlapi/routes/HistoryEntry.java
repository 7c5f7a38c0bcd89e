package dev.trafficmanager.controlapi.routes;

/** One change in a route's history, as the API shows it. */
public record HistoryEntry(String type, String url, boolean active, long revision, String at, boolean published) {
}
