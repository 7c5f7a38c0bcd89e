package dev.trafficmanager.proxy.observe;

import dev.trafficmanager.proxy.metrics.ProxyMetrics;
import dev.trafficmanager.proxy.routing.JsonText;

/**
 * One request as the access log tells it. Filled on the request's event loop while it runs, handed
 * to the {@link AccessLog} once it ended, then only read (on the log's writer thread, which formats it).
 */
public final class AccessRecord {
    final long startMillis = System.currentTimeMillis();
    final long startNanos = System.nanoTime();
    final String method;
    final String protocol;
    String path;
    long durationNanos;
    private String route;
    private ProxyMetrics.Tier tier;
    private boolean stale;
    String upstream;
    int status;
    String error;
    long bytesIn;
    long bytesOut;
    int retries;
    String requestId;
    String traceId;

    AccessRecord(String method, String protocol, String path) {
        this.method = method;
        this.protocol = protocol;
        this.path = path;
    }

    /** The request's target as it will be logged (a route's normalised path; the raw target until known). */
    public void path(String path) {
        if (path != null) {
            this.path = path;
        }
    }

    /** The route key that answered (a split's, then its version's), the tier it came from and whether it was stale. */
    public void lookedUp(String key, ProxyMetrics.Tier tier, boolean stale) {
        this.route = key;
        this.tier = tier;
        this.stale = stale;
    }

    /** An error of the sidecar's own answered the request. */
    public void error(String code) {
        error = code;
    }

    public void sent(long bytes) {
        bytesOut += bytes;
    }

    /** Where the request went (an upstream's scheme, host and port). */
    public void upstream(String upstream) {
        this.upstream = upstream;
    }

    /** The request is over: its status (0: none went out), body bytes received and retries. */
    public void ended(int status, long bytesIn, int retries) {
        this.durationNanos = System.nanoTime() - startNanos;
        this.status = status;
        this.bytesIn = bytesIn;
        this.retries = retries;
    }

    public String requestId() {
        return requestId;
    }

    public String traceId() {
        return traceId;
    }

    /** The JSON line, without its newline; {@code withQuery} keeps the path's query string. */
    void appendJson(StringBuilder out, boolean withQuery, LogTime time) {
        time.append(out.append("{\"time\":\""), startMillis).append('"');
        field(out, "route", route);
        field(out, "method", method);
        field(out, "path", withQuery || path == null ? path : withoutQuery(path));
        field(out, "protocol", protocol);
        out.append(",\"status\":").append(status);
        field(out, "error", error);
        out.append(",\"duration_ms\":").append(durationNanos / 1000 / 1000.0);
        field(out, "upstream", upstream);
        out.append(",\"bytes_in\":").append(bytesIn).append(",\"bytes_out\":").append(bytesOut);
        field(out, "tier", tier == null ? null : tier.label()); // named on the writer thread, not the event loop
        if (stale) {
            out.append(",\"stale\":true");
        }
        out.append(",\"retries\":").append(retries);
        field(out, "request_id", requestId);
        field(out, "trace_id", traceId);
        out.append('}');
    }

    private static String withoutQuery(String path) {
        int query = path.indexOf('?');
        return query < 0 ? path : path.substring(0, query);
    }

    private static void field(StringBuilder out, String name, String value) {
        out.append(",\"").append(name).append("\":");
        if (value == null) {
            out.append("null");
        } else {
            JsonText.append(out, value);
        }
    }
}
