package dev.trafficmanager.proxy;

import dev.trafficmanager.testing.Command;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A network namespace of a test's own ({@code ip netns}), a stand-in for a pod: its own loopback,
 * interfaces, routes and iptables rules. Needs root; {@link #supported()} says whether this machine
 * allows it. Deleted on close, with the processes started in it.
 */
final class NetworkNamespace implements AutoCloseable {
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(60);

    final String name;
    private final List<Process> processes = new ArrayList<>();

    private NetworkNamespace(String name) {
        this.name = name;
    }

    /** Null when namespaces can be made here, else why not (for a skip message). */
    static String unsupported() {
        if (!Command.available("ip")) {
            return "no ip command (Debian: iproute2)";
        }
        String probe = "tm-probe-" + ProcessHandle.current().pid();
        Command.Result created = Command.run(List.of("ip", "netns", "add", probe), Map.of(), tmp(), COMMAND_TIMEOUT);
        Command.run(List.of("ip", "netns", "del", probe), Map.of(), tmp(), COMMAND_TIMEOUT);
        return created.exit() == 0 ? null : "this machine forbids network namespaces: " + created.output().strip();
    }

    static NetworkNamespace create(String prefix) {
        String name = prefix + "-" + ProcessHandle.current().pid();
        Command.run(List.of("ip", "netns", "del", name), Map.of(), tmp(), COMMAND_TIMEOUT); // a leftover of a killed run
        Command.check(List.of("ip", "netns", "add", name), Map.of(), tmp(), COMMAND_TIMEOUT);
        NetworkNamespace ns = new NetworkNamespace(name);
        ns.check("ip", "link", "set", "lo", "up");
        return ns;
    }

    /** Runs {@code command} inside the namespace to its end. */
    Command.Result run(Map<String, String> env, String... command) {
        return Command.run(inside(command), env, tmp(), COMMAND_TIMEOUT);
    }

    String check(String... command) {
        return Command.check(inside(command), Map.of(), tmp(), COMMAND_TIMEOUT);
    }

    /** Starts {@code command} inside the namespace in the background, its output in {@code log}; stopped on close. */
    Process start(Map<String, String> env, Path log, String... command) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(inside(command)).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        builder.environment().putAll(env);
        Process process = builder.start(); // ip netns exec execs the command: the same process
        processes.add(process);
        return process;
    }

    private List<String> inside(String... command) {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", name));
        full.addAll(List.of(command));
        return full;
    }

    @Override
    public void close() {
        for (Process process : processes) {
            process.destroy();
        }
        try {
            for (Process process : processes) {
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            Command.run(List.of("ip", "netns", "del", name), Map.of(), tmp(), COMMAND_TIMEOUT);
        }
    }

    private static Path tmp() {
        return Path.of(System.getProperty("java.io.tmpdir"));
    }
}
