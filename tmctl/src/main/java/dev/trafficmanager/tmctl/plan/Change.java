package dev.trafficmanager.tmctl.plan;

import java.util.List;

/**
 * One step of a plan: what it does to which route or split, the fields that change (each
 * {@code field: old -> new}), and the file line it comes from (0: not in the file, a prune).
 */
public record Change(Kind kind, String target, List<String> fields, int line, Step step) {

    /** What a change does; {@code UNCHANGED} does nothing and is listed so the plan says so. */
    public enum Kind {
        CREATE("+"), UPDATE("~"), ACTIVATE("^"), DEACTIVATE("-"), DELETE("-"), UNCHANGED("=");

        private final String mark;

        Kind(String mark) {
            this.mark = mark;
        }

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** The write that carries the change out, given the target's current revision; returns the new one. */
    @FunctionalInterface
    public interface Step {
        long apply(long revision);
    }

    public boolean changes() {
        return kind != Kind.UNCHANGED;
    }

    /** The plan's line for it: {@code ~ update route t/s/e/v (line 7)}, then its fields indented. */
    public String describe() {
        StringBuilder text = new StringBuilder().append(kind.mark).append(' ').append(kind.label()).append(' ').append(target);
        if (line > 0) {
            text.append("  (line ").append(line).append(')');
        }
        for (String field : fields) {
            text.append("\n      ").append(field);
        }
        return text.toString();
    }
}
