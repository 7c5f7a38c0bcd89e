package dev.trafficmanager.controlapi.routes;

/**
 * One change in a route's history, as the API shows it.
 *
 * @param published    the outbox relay has handled it
 * @param publishError why the relay could not publish it, or null (only a manual write makes one)
 */
public record HistoryEntry(String type, String url, boolean active, long revision, String at, boolean published,
                           String publishError, String protocol) {
}
