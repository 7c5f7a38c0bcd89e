package dev.trafficmanager.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The real PostgreSQL, Redis and Kafka of {@code dev/stack.sh}, for integration tests. As an
 * extension ({@code @ExtendWith(LocalStack.class)}) it makes sure the stack is up once per test JVM;
 * {@code make test} starts it before the build and stops it after, and a test run from an IDE
 * leaves it running ({@code make stack-down} stops it). Fault tests stop and start single services.
 */
public final class LocalStack implements BeforeAllCallback {
    private static final Duration COMMAND_TIMEOUT = Duration.ofMinutes(5);
    private static final Pattern EXPORT = Pattern.compile("export (TM_[A-Z0-9_]+)='([^']*)'");
    private static final Map<String, Map<String, String>> CLIENT_ENV = new HashMap<>();
    private static boolean checkedUp;

    @Override
    public void beforeAll(ExtensionContext context) {
        ensureUp();
    }

    public static synchronized void ensureUp() {
        if (!checkedUp) {
            run("up");
            checkedUp = true;
        }
    }

    /** Starts whatever a fault test stopped or paused (idempotent for running services). */
    public static void ensureUpAgain() {
        for (String service : new String[] {"postgres", "redis", "kafka"}) {
            if (isPaused(service)) {
                run("resume", service);
            }
        }
        run("up");
    }

    private static boolean isPaused(String service) {
        return run("status").lines().anyMatch(line -> line.startsWith(service + " ") && line.contains("paused"));
    }

    public static void stop(String service) {
        run("stop", service);
    }

    public static void start(String service) {
        run("start", service);
    }

    public static void pause(String service) {
        run("pause", service);
    }

    public static void resume(String service) {
        run("resume", service);
    }

    /**
     * What {@code dev/stack.sh env <client>} prints for {@code sidecar} or {@code control-api}: the
     * addresses, and that client's credentials (the stack requires them on every tier).
     */
    public static synchronized Map<String, String> clientEnv(String client) {
        return CLIENT_ENV.computeIfAbsent(client, c -> {
            Map<String, String> env = new HashMap<>();
            for (String line : run("env", c).split("\n")) {
                Matcher m = EXPORT.matcher(line.trim());
                if (m.matches()) {
                    env.put(m.group(1), m.group(2));
                }
            }
            if (!env.containsKey("TM_DB_URL")) {
                throw new IllegalStateException("dev/stack.sh env " + c + " printed no TM_DB_URL");
            }
            return Map.copyOf(env);
        });
    }

    public static String jdbcUrl() {
        return clientEnv("control-api").get("TM_DB_URL");
    }

    /** The control API's database role: it owns the schema. */
    public static String dbUser() {
        return clientEnv("control-api").get("TM_DB_USER");
    }

    public static String dbPassword() {
        return clientEnv("control-api").get("TM_DB_PASSWORD");
    }

    /** Redis as the sidecar reaches it: its ACL user's credentials in the URL. */
    public static String redisUrl() {
        return clientEnv("sidecar").get("TM_REDIS_URL");
    }

    public static String kafkaBootstrap() {
        return clientEnv("sidecar").get("TM_KAFKA_BOOTSTRAP");
    }

    /** The repository's root: the nearest folder upwards that holds {@code dev/stack.sh}. */
    public static Path repoRoot() {
        String configured = System.getProperty("tm.repo.root");
        Path start = configured != null ? Paths.get(configured) : Paths.get("").toAbsolutePath();
        for (Path dir = start.toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve("dev/stack.sh"))) {
                return dir;
            }
        }
        throw new IllegalStateException("no dev/stack.sh above " + start);
    }

    private static String run(String... args) {
        Path root = repoRoot();
        List<String> command = new java.util.ArrayList<>();
        command.add("bash");
        command.add(root.resolve("dev/stack.sh").toString());
        command.addAll(List.of(args));
        return Command.check(command, java.util.Map.of(), root, COMMAND_TIMEOUT);
    }
}
