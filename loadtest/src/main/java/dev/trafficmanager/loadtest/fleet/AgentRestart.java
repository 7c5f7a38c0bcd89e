package dev.trafficmanager.loadtest.fleet;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Stops the node agent (SIGTERM) under load and starts it again with the command line
 * {@code fleet.sh} wrote (one argument per line; {@code env:K=V}, {@code log:PATH} and
 * {@code pidfile:PATH} lines set its environment, output and pid file); counts the load's errors
 * and the node sidecars' stale serves from the stop until 5 s after the new agent is ready.
 */
final class AgentRestart {
    record Outcome(double stoppedSeconds, double readySeconds, long requests, long errors, double staleServes,
                   List<String> firstErrors) {
    }

    private AgentRestart() {
    }

    static Outcome run(Probes probes, List<FleetProcess> processes, Path commandFile, Load load) throws Exception {
        FleetProcess agent = processes.stream().filter(p -> p.role().equals("agent")).findFirst().orElseThrow();
        List<FleetProcess> nodes = processes.stream().filter(p -> p.role().startsWith("node")).toList();
        double staleBefore = staleServes(probes, nodes);
        load.mark("agent stopping");
        long from = System.currentTimeMillis();
        long sentBefore = load.sent();
        ProcessHandle handle = ProcessHandle.of(agent.pid()).orElseThrow(() -> new IllegalStateException("no agent process"));
        handle.destroy();
        try {
            handle.onExit().get(30, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            handle.destroyForcibly();
            handle.onExit().get(10, TimeUnit.SECONDS);
        }
        double stopped = (System.currentTimeMillis() - from) / 1000.0;
        load.mark("agent stopped");

        List<String> command = new ArrayList<>();
        ProcessBuilder builder = new ProcessBuilder();
        Path pidFile = null;
        for (String line : Files.readAllLines(commandFile)) {
            if (line.startsWith("env:")) {
                String kv = line.substring(4);
                builder.environment().put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1));
            } else if (line.startsWith("log:")) {
                builder.redirectOutput(ProcessBuilder.Redirect.appendTo(new File(line.substring(4))));
            } else if (line.startsWith("pidfile:")) {
                pidFile = Path.of(line.substring(8));
            } else if (!line.isEmpty()) {
                command.add(line);
            }
        }
        long started = System.currentTimeMillis();
        Process restarted = builder.command(command).redirectErrorStream(true).start();
        if (pidFile != null) {
            Files.writeString(pidFile, Long.toString(restarted.pid()));
        }
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
        while (!probes.ok(agent.admin() + "/readyz")) {
            if (System.nanoTime() > deadline || !restarted.isAlive()) {
                throw new IllegalStateException("the restarted agent was not ready within 5 minutes (alive: "
                        + restarted.isAlive() + ")");
            }
            Thread.sleep(50);
        }
        double ready = (System.currentTimeMillis() - started) / 1000.0;
        load.mark("agent ready again");
        Thread.sleep(5000);
        long to = System.currentTimeMillis();
        load.mark("5 s after the agent was ready");
        List<String> first = load.errors.stream().filter(e -> e.atMillis() >= from && e.atMillis() < to).limit(5)
                .map(Load.Event::what).toList();
        processes.replaceAll(p -> p == agent ? p.withPid(restarted.pid(), started) : p);
        return new Outcome(stopped, ready, load.sent() - sentBefore, load.errorsBetween(from, to),
                staleServes(probes, nodes) - staleBefore, first);
    }

    private static double staleServes(Probes probes, List<FleetProcess> nodes) throws Exception {
        double sum = 0;
        for (FleetProcess node : nodes) {
            sum += Probes.meter(probes.get(node.admin() + "/metrics"), "tm_route_stale_serves_total", null);
        }
        return sum;
    }
}
