package dev.trafficmanager.tmctl.plan;

import dev.trafficmanager.tmctl.ApiError;
import java.io.PrintWriter;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The writes that make a tenant what a file says, in order, and the revision each target was at
 * when the plan was made. {@link #apply} sends each write with {@code If-Match} (or
 * {@code If-None-Match: *} for a create), so a change someone made since is reported, not overwritten.
 */
public record Plan(String tenant, List<Change> changes, Map<String, Long> revisions, int unlisted) {

    /** How an apply ended: the changes made, and the refusal that stopped it (null when none did). */
    public record Outcome(int applied, int total, ApiError failure) {
        public boolean conflict() {
            return failure != null && failure.conflict();
        }
    }

    public Plan {
        changes = List.copyOf(changes);
        revisions = Map.copyOf(revisions);
    }

    public int toChange() {
        return (int) changes.stream().filter(Change::changes).count();
    }

    /** The plan as people read it: each change with its fields, then a summary. */
    public void print(PrintWriter out, boolean showUnchanged) {
        Map<Change.Kind, Integer> counts = new EnumMap<>(Change.Kind.class);
        for (Change change : changes) {
            counts.merge(change.kind(), 1, Integer::sum);
            if (change.changes() || showUnchanged) {
                out.println(change.describe());
            }
        }
        StringBuilder summary = new StringBuilder("plan for tenant ").append(tenant).append(": ");
        for (Change.Kind kind : Change.Kind.values()) {
            summary.append(counts.getOrDefault(kind, 0)).append(' ').append(kind.label())
                    .append(kind == Change.Kind.UNCHANGED ? "" : ", ");
        }
        out.println(summary);
        if (unlisted > 0) {
            out.println(unlisted + " active route(s) or split(s) of tenant " + tenant
                    + " are not in the file and are left as they are (--prune deactivates routes and deletes splits the file does not list)");
        }
        out.flush();
    }

    /**
     * Makes the changes one after the other, each a single atomic write. The first refusal stops
     * the apply: the changes before it stay made, none after it is tried.
     */
    public Outcome apply(PrintWriter out) {
        Map<String, Long> current = new HashMap<>(revisions);
        int applied = 0;
        int total = toChange();
        for (Change change : changes) {
            if (!change.changes()) {
                continue;
            }
            try {
                current.put(change.target(), change.step().apply(current.getOrDefault(change.target(), 0L)));
            } catch (ApiError e) {
                out.println("failed: " + change.kind().label() + " " + change.target()
                        + (change.line() > 0 ? " (line " + change.line() + ")" : "") + ": " + e);
                out.flush();
                return new Outcome(applied, total, e);
            }
            applied++;
            out.println("done: " + change.kind().label() + " " + change.target());
        }
        out.flush();
        return new Outcome(applied, total, null);
    }
}
