package dev.trafficmanager.proxy.observe;

import java.time.Instant;

/**
 * Writes epoch milliseconds as ISO-8601 UTC ({@code 2026-12-02T03:08:59.923Z}), formatting the date
 * and time once a second and only the milliseconds per line. For one thread (the log's writer).
 */
final class LogTime {
    private long second = Long.MIN_VALUE;
    private String prefix; // up to the seconds, without the dot

    StringBuilder append(StringBuilder out, long millis) {
        long now = Math.floorDiv(millis, 1000);
        if (now != second) {
            String full = Instant.ofEpochSecond(now).toString(); // 2026-12-02T03:08:59Z
            prefix = full.substring(0, full.length() - 1);
            second = now;
        }
        int fraction = (int) Math.floorMod(millis, 1000);
        return out.append(prefix).append('.').append((char) ('0' + fraction / 100))
                .append((char) ('0' + fraction / 10 % 10)).append((char) ('0' + fraction % 10)).append('Z');
    }
}
