package dev.trafficmanager.loadtest;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code --name value} pairs of a load-test program; a name may repeat. Errors name the usage. */
final class Args {
    private final Map<String, List<String>> values = new LinkedHashMap<>();
    private final String usage;

    Args(String[] args, String usage) {
        this.usage = usage;
        if (args.length % 2 != 0) {
            throw new IllegalArgumentException("expected --name value pairs (usage: " + usage + ")");
        }
        for (int i = 0; i < args.length; i += 2) {
            values.computeIfAbsent(args[i], name -> new ArrayList<>()).add(args[i + 1]);
        }
    }

    String require(String name) {
        String value = get(name, null);
        if (value == null) {
            throw new IllegalArgumentException("missing " + name + " (usage: " + usage + ")");
        }
        return value;
    }

    /** The last value given for {@code name}, or {@code fallback}. */
    String get(String name, String fallback) {
        List<String> given = values.get(name);
        return given == null ? fallback : given.get(given.size() - 1);
    }

    List<String> all(String name) {
        return values.getOrDefault(name, List.of());
    }
}
