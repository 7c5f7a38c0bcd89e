package dev.trafficmanager.tmctl;

import dev.trafficmanager.tmctl.spec.SpecError;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code tmctl}: the control API from a shell. Exit codes: 0 done, 1 an error (a refusal, a bad
 * file, a bad option, the API unreachable), 2 a conflict (someone changed a route or split since
 * the plan was made; nothing of theirs was overwritten).
 */
@Command(name = "tmctl", mixinStandardHelpOptions = true, version = "tmctl 0.1.0",
        description = "Traffic Manager's command-line client: routes and splits, routes as code, what a sidecar would do.",
        subcommands = {Commands.Get.class, Commands.History.class, Commands.Tenants.class, ApplyCommand.class,
                ApplyCommand.Diff.class, ApplyCommand.Export.class, Commands.Resolve.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:done (apply: applied, or nothing to change)", "1:an error (the message says which)",
                "2:a conflict: a route or split changed since the plan was made"})
public final class Tmctl implements Runnable {
    public static final int OK = 0;
    public static final int ERROR = 1;
    public static final int CONFLICT = 2;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is needed");
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The command line with tmctl's error handling: every failure an exit code and one clear message. */
    public static CommandLine commandLine() {
        CommandLine line = new CommandLine(new Tmctl());
        line.setParameterExceptionHandler((e, args) -> {
            PrintWriter err = e.getCommandLine().getErr();
            err.println("error: " + e.getMessage().replaceFirst("^Error: ", ""));
            err.println("(tmctl " + e.getCommandLine().getCommandName() + " --help shows its usage)");
            return ERROR;
        });
        line.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            PrintWriter err = commandLine.getErr();
            if (e instanceof ApiError api) {
                err.println((api.conflict() ? "conflict: " : "error: ") + api);
                return api.conflict() ? CONFLICT : ERROR;
            }
            if (e instanceof UsageError || e instanceof SpecError) {
                err.println("error: " + e.getMessage());
                return ERROR;
            }
            throw e;
        });
        return line;
    }
}
