package dev.trafficmanager.config;

import java.time.Duration;
import java.util.Map;

/**
 * Reads settings from environment variables, one at a time, with messages that say what was given
 * and what was expected ({@code "TM_API_PORT: 0 (expected: a whole number from 1 to 65535)"}).
 * Shared by both servers so their settings read and fail alike.
 */
public final class Settings {
    private final Map<String, String> env;

    public Settings(Map<String, String> env) {
        this.env = env;
    }

    public String string(String name, String fallback) {
        String value = env.get(name);
        return value == null || value.isBlank() ? fallback : value.trim();
    }

    public int integer(String name, int fallback, int min, int max) {
        return (int) longValue(name, fallback, min, max);
    }

    public long longValue(String name, long fallback, long min, long max) {
        String value = string(name, null);
        if (value == null) {
            return fallback;
        }
        try {
            long parsed = Long.parseLong(value);
            if (parsed >= min && parsed <= max) {
                return parsed;
            }
        } catch (NumberFormatException e) {
            // reported below with the expected range
        }
        throw new IllegalArgumentException(name + ": " + value + " (expected: a whole number from "
                + min + " to " + max + ")");
    }

    public Duration millis(String name, int fallback, int min) {
        return Duration.ofMillis(integer(name, fallback, min, Integer.MAX_VALUE));
    }
}
