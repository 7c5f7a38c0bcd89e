package dev.trafficmanager.controlapi.routes;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One change in a route's history, as the API shows it.
 *
 * @param published    the outbox relay has handled it
 * @param options      the route's endpoints, timeout and retries, or a split's weights; null when none
 * @param publishError why the relay could not publish it, or null (only a manual write makes one)
 */
public record HistoryEntry(String type, String url, boolean active, long revision, String at, boolean published,
                           String publishError, String protocol, JsonNode options) {
}
