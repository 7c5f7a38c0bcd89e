package dev.trafficmanager.tmctl;

import dev.trafficmanager.tmctl.plan.Plan;
import dev.trafficmanager.tmctl.plan.ServerState;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Routes as code: {@code apply} makes a tenant's routes and splits what a YAML file says,
 * {@code diff} prints the plan only (and may save it), {@code export} writes the file that
 * describes a tenant now.
 */
@Command(name = "apply", description = {"Make a tenant's routes and splits what FILE says: print the plan, then apply it.",
        "Each write carries the revision the plan saw (If-Match; If-None-Match: * to create), so a change made "
                + "meanwhile is reported (exit 2), never overwritten."})
final class ApplyCommand implements Callable<Integer> {
    @Mixin ApiOptions api;
    @ArgGroup(exclusive = true, multiplicity = "1") Source source;
    @Option(names = "--dry-run", description = "print the plan, change nothing (as tmctl diff)") boolean dryRun;
    @Option(names = "--show-unchanged", description = "list unchanged routes and splits too") boolean showUnchanged;

    /** A routes file (with --prune), or a plan saved by tmctl diff --out. */
    static final class Source {
        @ArgGroup(exclusive = false) FromFile file;
        @Option(names = "--plan", paramLabel = "PLAN", description = "apply a plan saved by tmctl diff --out, against the state it saw")
        Path plan;
    }

    /** {@code -f FILE [--prune]}. */
    static final class FromFile {
        @Option(names = {"-f", "--file"}, paramLabel = "FILE", required = true, description = "the routes file (YAML); - for standard input")
        String path;
        @Option(names = "--prune", description = "also deactivate the tenant's routes and delete its splits that FILE does not list")
        boolean prune;
    }

    @Override
    public Integer call() {
        PrintWriter out = Out.out();
        ApiClient client = api.client();
        Plan plan = source.plan != null ? PlanFiles.load(source.plan, client).plan()
                : PlanFiles.make(source.file.path, source.file.prune, client).plan();
        plan.print(out, showUnchanged);
        if (dryRun || plan.toChange() == 0) {
            out.println(plan.toChange() == 0 ? "nothing to change" : "dry run: nothing changed");
            out.flush();
            return Tmctl.OK;
        }
        Plan.Outcome outcome = plan.apply(out);
        if (outcome.failure() == null) {
            out.println("applied " + outcome.applied() + " change(s)");
            out.flush();
            return Tmctl.OK;
        }
        PrintWriter err = Out.err();
        err.println((outcome.conflict() ? "conflict: " : "error: ") + outcome.failure());
        err.println("applied " + outcome.applied() + " of " + outcome.total() + " change(s) before it; nothing after it was tried"
                + (outcome.conflict() ? "; it changed since the plan was made: run tmctl diff to see the state now" : ""));
        return outcome.conflict() ? Tmctl.CONFLICT : Tmctl.ERROR;
    }

    @Command(name = "diff", description = "Print the plan tmctl apply would carry out, change nothing; exit 0 either way.")
    static final class Diff implements Callable<Integer> {
        @Mixin ApiOptions api;
        @ArgGroup(exclusive = false, multiplicity = "1") FromFile file;
        @Option(names = "--show-unchanged", description = "list unchanged routes and splits too") boolean showUnchanged;
        @Option(names = "--out", paramLabel = "PLAN", description = "also save the plan, for tmctl apply --plan PLAN")
        Path out;

        @Override
        public Integer call() {
            PlanFiles.Made made = PlanFiles.make(file.path, file.prune, api.client());
            made.plan().print(Out.out(), showUnchanged);
            if (out != null) {
                PlanFiles.save(made, out);
                Out.out().println("saved the plan to " + out + "; tmctl apply --plan " + out + " carries it out");
                Out.out().flush();
            }
            return Tmctl.OK;
        }
    }

    @Command(name = "export", description = "Write a tenant's routes (inactive ones with active: false) and splits as a routes file.")
    static final class Export implements Callable<Integer> {
        @Mixin ApiOptions api;
        @Mixin Commands.TenantOption tenant;
        @Option(names = {"-f", "--file"}, paramLabel = "FILE", description = "write to FILE (default: standard output)")
        Path output;

        @Override
        public Integer call() {
            String name = tenant.require();
            ServerState state = ServerState.read(api.client(), name);
            String text = "# tmctl export --tenant " + name + " at " + Instant.now() + "; tmctl apply -f this file changes nothing\n"
                    + Output.write(Output.YAML, state.toFile().toTree());
            if (output == null) {
                Out.out().print(text);
                Out.out().flush();
                return Tmctl.OK;
            }
            PlanFiles.writeAtomically(output, text);
            Out.err().println("wrote " + state.routes().size() + " route(s) and " + state.toFile().splits().size()
                    + " split(s) of tenant " + name + " to " + output);
            return Tmctl.OK;
        }
    }
}
