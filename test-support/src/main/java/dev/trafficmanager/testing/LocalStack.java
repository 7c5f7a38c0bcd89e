package dev.trafficmanager.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.List;
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

    public static String jdbcUrl() {
        return "jdbc:postgresql://127.0.0.1:" + port("TM_PG_PORT", 55432) + "/trafficmanager";
    }

    public static String dbUser() {
        return "tm";
    }

    public static String dbPassword() {
        return "tm";
    }

    public static String redisUrl() {
        return "redis://127.0.0.1:" + port("TM_REDIS_PORT", 56379);
    }

    public static String kafkaBootstrap() {
        return "127.0.0.1:" + port("TM_KAFKA_PORT", 59092);
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

    private static int port(String variable, int fallback) {
        String value = System.getenv(variable);
        return value == null || value.isBlank() ? fallback : Integer.parseInt(value.trim());
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
