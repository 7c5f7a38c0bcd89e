package dev.trafficmanager.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs an outside program (a script, curl, python3) to its end, with a deadline, for tests and the stack. */
public final class Command {
    private Command() {
    }

    /** How a program ended: its exit code and what it wrote to stdout and stderr, interleaved. */
    public record Result(int exit, String output) {
    }

    /**
     * Runs {@code command} in {@code dir} with {@code env} added to this process's environment
     * (a null value removes the variable); kills it and throws if it has not ended within {@code timeout}.
     */
    public static Result run(List<String> command, Map<String, String> env, Path dir, Duration timeout) {
        try {
            // Output goes to a file, not a pipe: reading a pipe would block past the timeout.
            Path output = Files.createTempFile("tm-command-", ".log");
            try {
                ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                        .redirectOutput(output.toFile());
                env.forEach((name, value) -> {
                    if (value == null) {
                        builder.environment().remove(name);
                    } else {
                        builder.environment().put(name, value);
                    }
                });
                Process process = builder.start();
                boolean finished = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
                if (!finished) {
                    process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
                String text = Files.readString(output, StandardCharsets.UTF_8);
                if (!finished) {
                    throw new IllegalStateException(String.join(" ", command) + " did not finish in " + timeout + ":\n" + text);
                }
                return new Result(process.exitValue(), text);
            } finally {
                Files.deleteIfExists(output);
            }
        } catch (IOException e) {
            throw new IllegalStateException("could not run " + command, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + command, e);
        }
    }

    /** The same, failing unless the program exits 0; returns its output. */
    public static String check(List<String> command, Map<String, String> env, Path dir, Duration timeout) {
        Result result = run(command, env, dir, timeout);
        if (result.exit() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " exited " + result.exit() + ":\n" + result.output());
        }
        return result.output();
    }

    /** Whether {@code program} is on the PATH. */
    public static boolean available(String program) {
        return run(List.of("sh", "-c", "command -v " + program), Map.of(), Path.of("."), Duration.ofSeconds(10)).exit() == 0;
    }
}
