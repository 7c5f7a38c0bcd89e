package dev.trafficmanager.loadtest.fleet;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One process of the fleet run, as {@code loadtest/fleet.sh} started it: a line of
 * {@code role name pid proxyPort adminPort tenant startedAtMillis} in its process list.
 * Roles: {@code agent}, {@code node} (a sidecar in node mode), {@code standalone}, and
 * {@code standalone-all} (a standalone sidecar of every tenant, for the whole-topic comparison).
 */
record FleetProcess(String role, String name, long pid, int proxyPort, int adminPort, String tenant, long startedAt) {

    static List<FleetProcess> read(Path file) throws IOException {
        List<FleetProcess> out = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            if (line.isBlank()) {
                continue;
            }
            String[] f = line.trim().split("\\s+");
            if (f.length != 7) {
                throw new IllegalArgumentException(file + ": \"" + line + "\" (expected: role name pid proxyPort adminPort tenant startedAtMillis)");
            }
            out.add(new FleetProcess(f[0], f[1], Long.parseLong(f[2]), Integer.parseInt(f[3]), Integer.parseInt(f[4]), f[5],
                    Long.parseLong(f[6])));
        }
        return out;
    }

    String admin() {
        return "http://127.0.0.1:" + adminPort;
    }

    FleetProcess withPid(long newPid, long started) {
        return new FleetProcess(role, name, newPid, proxyPort, adminPort, tenant, started);
    }
}
