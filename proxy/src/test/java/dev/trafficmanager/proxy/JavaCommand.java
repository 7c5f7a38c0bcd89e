package dev.trafficmanager.proxy;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A command line that runs a class of this test run's class path in a JVM of its own. */
public final class JavaCommand {
    private JavaCommand() {
    }

    /**
     * java with this JVM's module flags (what Chronicle Map needs), Netty's leak detector at
     * paranoid, {@code heap}, and {@code mainClass} with {@code args}.
     */
    public static List<String> of(String heap, String mainClass, String... args) {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        for (String flag : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (flag.startsWith("--add-") || flag.startsWith("-Dchronicle.")) {
                command.add(flag);
            }
        }
        command.addAll(List.of("-Xmx" + heap, "-Dio.netty.leakDetection.level=paranoid",
                "-cp", System.getProperty("java.class.path"), mainClass));
        command.addAll(List.of(args));
        return command;
    }
}
