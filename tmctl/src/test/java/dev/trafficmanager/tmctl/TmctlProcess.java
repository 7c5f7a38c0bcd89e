package dev.trafficmanager.tmctl;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs tmctl as its own process, as an operator's shell would, and keeps its exit code and output. */
final class TmctlProcess {
    /** What a run of tmctl left: its exit code, standard output and standard error. */
    record Run(int exit, String out, String err) {
        Run expect(int code) {
            assertThat(exit).as("exit code of tmctl; stdout:%n%s%nstderr:%n%s", out, err).isEqualTo(code);
            return this;
        }
    }

    private TmctlProcess() {
    }

    /** Runs {@code tmctl args} with exactly {@code env} as its TM_ variables; {@code stdin} may be null. */
    static Run run(Map<String, String> env, String stdin, String... args) {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-Xshare:auto", "-cp", System.getProperty("java.class.path"),
                Tmctl.class.getName()));
        command.addAll(List.of(args));
        try {
            Path out = Files.createTempFile("tmctl", ".out");
            Path err = Files.createTempFile("tmctl", ".err");
            try {
                ProcessBuilder builder = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
                builder.environment().keySet().removeIf(name -> name.startsWith("TM_"));
                builder.environment().putAll(env);
                Process process = builder.start();
                try (OutputStream in = process.getOutputStream()) {
                    if (stdin != null) {
                        in.write(stdin.getBytes(StandardCharsets.UTF_8));
                    }
                }
                if (!process.waitFor(90, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    throw new AssertionError("tmctl " + String.join(" ", args) + " did not end within 90 s");
                }
                return new Run(process.exitValue(), Files.readString(out), Files.readString(err));
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            throw new AssertionError("cannot run tmctl", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }
}
