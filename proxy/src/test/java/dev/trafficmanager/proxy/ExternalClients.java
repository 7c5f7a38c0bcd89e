package dev.trafficmanager.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trafficmanager.testing.Command;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Clients that are not ours (curl), configured only as their users would configure them. */
final class ExternalClients {
    private ExternalClients() {
    }

    /** curl's body and status code, configured only by {@code env} and {@code args}. */
    static String curl(Map<String, String> env, String... args) {
        assertThat(Command.available("curl")).as("curl on the PATH").isTrue();
        List<String> command = new ArrayList<>(List.of("curl", "-sS", "-m", "10", "-w", "%{http_code}"));
        command.addAll(List.of(args));
        Command.Result result = Command.run(command, proxyEnv(env), Path.of(System.getProperty("java.io.tmpdir")), Duration.ofSeconds(30));
        assertThat(result.exit()).as(result.output()).isZero();
        return result.output();
    }

    /** {@code settings} with every other proxy variable of this machine's environment removed. */
    static Map<String, String> proxyEnv(Map<String, String> settings) {
        Map<String, String> env = new HashMap<>();
        for (String name : List.of("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY",
                "no_proxy", "NO_PROXY")) {
            env.put(name, null);
        }
        env.putAll(settings);
        return env;
    }
}
