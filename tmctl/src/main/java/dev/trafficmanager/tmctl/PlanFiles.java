package dev.trafficmanager.tmctl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.trafficmanager.tmctl.plan.Plan;
import dev.trafficmanager.tmctl.plan.Planner;
import dev.trafficmanager.tmctl.plan.ServerState;
import dev.trafficmanager.tmctl.spec.RoutesFile;
import dev.trafficmanager.tmctl.spec.SpecError;
import dev.trafficmanager.tmctl.spec.SpecReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.stream.Collectors;

/**
 * Plans from a routes file, and plans saved to apply later ({@code tmctl diff --out PLAN},
 * {@code tmctl apply --plan PLAN}): a saved plan keeps the file and the state it was made against,
 * so applying it sends the revisions that were reviewed, and anything changed since is a conflict.
 */
final class PlanFiles {
    private static final int FORMAT = 2; // 2: the plan names its control API

    /** A plan with what it was made from. */
    record Made(Plan plan, String text, ServerState state, boolean prune, String api) {
    }

    private PlanFiles() {
    }

    /** Reads the file ({@code -} for standard input), then the tenant's state, and plans. */
    static Made make(String path, boolean prune, ApiClient client) {
        String text = readText(path.equals("-") ? null : Path.of(path));
        RoutesFile file = parse(path.equals("-") ? "<stdin>" : path, text);
        ServerState state = ServerState.read(client, file.tenant());
        return new Made(Planner.plan(file, state, prune, client), text, state, prune, client.base());
    }

    static void save(Made made, Path out) {
        ObjectNode json = JsonNodeFactory.instance.objectNode().put("format", FORMAT).put("api", made.api())
                .put("tenant", made.state().tenant()).put("prune", made.prune()).put("file", made.text());
        json.set("state", made.state().toJson());
        writeAtomically(out, Output.write(Output.JSON, json) + "\n");
    }

    /** The plan saved in {@code saved}, with the revisions it was made against. */
    static Made load(Path saved, ApiClient client) {
        JsonNode json;
        try {
            json = Output.JSON.readTree(readText(saved));
        } catch (IOException e) {
            throw new UsageError(saved + ": not a saved plan (" + e.getMessage() + ")");
        }
        if (json.path("format").asInt() != FORMAT || !json.path("file").isTextual() || !json.path("state").isObject()) {
            throw new UsageError(saved + ": not a saved plan of this tmctl (expected: the output of tmctl diff --out)");
        }
        if (!json.path("api").asText().equals(client.base())) {
            throw new UsageError(saved + ": a plan made against " + json.path("api").asText() + ", not " + client.base()
                    + " (revisions of one control API mean nothing to another)");
        }
        String text = json.get("file").asText();
        RoutesFile file = parse(saved + " (its file)", text);
        ServerState state = ServerState.of(json.path("tenant").asText(), ApiClient.items(json.get("state").path("routes")),
                ApiClient.items(json.get("state").path("splits")));
        boolean prune = json.path("prune").asBoolean();
        return new Made(Planner.plan(file, state, prune, client), text, state, prune, client.base());
    }

    static RoutesFile parse(String name, String text) {
        try {
            return SpecReader.read(text);
        } catch (SpecError e) {
            throw new UsageError(e.problems().size() + " problem(s) in " + name + ", nothing applied:\n"
                    + e.problems().stream().sorted(java.util.Comparator.comparingInt(SpecError.Problem::line))
                    .map(p -> "  " + name + ":" + (p.line() > 0 ? p.line() + ":" : "") + " " + p.message())
                    .collect(Collectors.joining("\n")));
        }
    }

    /** Writes through a temporary file in the same directory, so a reader never sees half a file. */
    static void writeAtomically(Path out, String text) {
        try {
            Path directory = out.toAbsolutePath().getParent();
            Path temporary = Files.createTempFile(directory, ".tmctl", ".tmp");
            Files.writeString(temporary, text, StandardCharsets.UTF_8);
            Files.move(temporary, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UsageError(out + ": cannot write it (" + e + ")");
        }
    }

    private static String readText(Path path) {
        try {
            return path == null ? new String(System.in.readAllBytes(), StandardCharsets.UTF_8)
                    : Files.readString(path, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UsageError((path == null ? "<stdin>" : path) + ": cannot read it (" + e + ")");
        }
    }
}
