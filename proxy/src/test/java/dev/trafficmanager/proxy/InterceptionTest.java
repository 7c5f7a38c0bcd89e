package dev.trafficmanager.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trafficmanager.testing.Command;
import dev.trafficmanager.testing.LocalStack;
import dev.trafficmanager.testing.Poll;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Transparent interception, as in a pod: a network namespace ("the pod") runs the sidecar as root
 * and an application as an unprivileged user; deploy/tm-iptables.sh redirects the pod's outbound
 * port 80 into the sidecar; a second namespace ("the peer"), joined by a veth pair, runs the
 * upstream. The application calls http://hello/... with curl (hello resolved to the peer's address
 * with --resolve) and knows nothing of the sidecar. The pod reaches no Kafka, Redis or PostgreSQL:
 * its sidecar routes from an L1 file a sidecar on the real stack filled first, as a node's shared
 * L1 would be.
 */
@ExtendWith(LocalStack.class)
class InterceptionTest {
    private static final String POD_ADDRESS = "10.253.0.1";
    private static final String PEER_ADDRESS = "10.253.0.2";
    private static final String APP_UID = "65534"; // nobody

    @TempDir
    Path dir;

    @Test
    void anApplicationCallingAServiceByNameIsRedirectedIntoTheSidecarAndRouted() throws Exception {
        String unsupported = NetworkNamespace.unsupported();
        Assumptions.assumeTrue(unsupported == null, () -> "skipped: " + unsupported);
        assertThat(Command.available("iptables")).as("iptables on the PATH (dev/stack.sh testtools installs it)").isTrue();
        try (SidecarHarness harness = SidecarHarness.start()) {
            Path l1 = dir.resolve("routes.l1");
            try (Sidecar seeder = SidecarHarness.startReady(harness.sidecarEnv(l1))) {
                harness.newRoute(seeder, "hello", "http://" + PEER_ADDRESS + ":80/hello-ns");
            }
            try (NetworkNamespace pod = NetworkNamespace.create("tm-pod");
                 NetworkNamespace peer = NetworkNamespace.create("tm-peer")) {
                connect(pod, peer);
                String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
                String classpath = System.getProperty("java.class.path");
                peer.start(Map.of(), dir.resolve("upstream.log"), java, "-cp", classpath,
                        "dev.trafficmanager.testing.TestUpstream", "80", "hello-ns", PEER_ADDRESS);
                pod.start(podSidecarEnv(harness, l1), dir.resolve("sidecar.log"),
                        JavaCommand.of("128m", "dev.trafficmanager.proxy.Main").toArray(String[]::new));
                Poll.until(Duration.ofSeconds(60), "the pod's sidecar answering /healthz",
                        () -> pod.run(Map.of(), "curl", "-fsS", "-m", "1", "http://127.0.0.1:15000/healthz").exit() == 0);
                Poll.until(Duration.ofSeconds(60), "the peer's upstream answering",
                        () -> pod.run(Map.of(), "curl", "-fsS", "-m", "1", "http://" + PEER_ADDRESS + "/").exit() == 0);

                // Without the rules the application reaches the upstream itself: no route, no base path.
                assertThat(app(pod, "http://hello/greet")).isEqualTo("hello-ns GET /greet\n200");

                pod.check("bash", LocalStack.repoRoot().resolve("deploy/tm-iptables.sh").toString(), "install",
                        "--proxy-uid", "0", "--proxy-port", "15001", "--admin-port", "15000", "--ports", "80");
                assertThat(app(pod, "http://hello/greet?x=1")).isEqualTo("hello-ns GET /hello-ns/greet?x=1\n200");
                assertThat(app(pod, "http://hello.svc.cluster.local/greet")).isEqualTo("hello-ns GET /hello-ns/greet\n200");
                // the sidecar's own connection to the upstream (as uid 0) was left alone by the rules
                assertThat(ownerRulePackets(pod)).isPositive();
                // nothing the application sends crosses its tenant's boundary
                assertThat(app(pod, "-H", "x-tm-tenant: someone-else", "http://hello/greet"))
                        .contains("\"error\":\"tenant_forbidden\"").endsWith("403");
                // a port not chosen for interception goes out as it is (nothing listens there: refused)
                Command.Result direct = pod.run(Map.of(), appCurl("http://hello:8080/"));
                assertThat(direct.exit()).as(direct.output()).isEqualTo(7);

                pod.check("bash", LocalStack.repoRoot().resolve("deploy/tm-iptables.sh").toString(), "remove");
                assertThat(app(pod, "http://hello/greet")).isEqualTo("hello-ns GET /greet\n200");
            }
            String log = Files.readString(dir.resolve("sidecar.log"));
            assertThat(log).contains("sidecar proxy on 127.0.0.1:15001").doesNotContain("LEAK:");
        }
    }

    /** A veth pair between the two namespaces, with an address on each end and the pod's default route. */
    private static void connect(NetworkNamespace pod, NetworkNamespace peer) {
        pod.check("ip", "link", "add", "tm0", "type", "veth", "peer", "name", "tm1", "netns", peer.name);
        pod.check("ip", "addr", "add", POD_ADDRESS + "/24", "dev", "tm0");
        pod.check("ip", "link", "set", "tm0", "up");
        pod.check("ip", "route", "add", "default", "dev", "tm0");
        peer.check("ip", "addr", "add", PEER_ADDRESS + "/24", "dev", "tm1");
        peer.check("ip", "link", "set", "tm1", "up");
    }

    /** The pod's sidecar: bound to the harness's tenant, routing from the filled L1 file. */
    private static Map<String, String> podSidecarEnv(SidecarHarness harness, Path l1) {
        Map<String, String> env = new HashMap<>(harness.transparentSidecarEnv(l1));
        env.put("TM_PROXY_PORT", "15001");
        env.put("TM_PROXY_ADMIN_PORT", "15000");
        env.put("TM_REDIS_URL", "off");
        env.put("TM_KAFKA_BOOTSTRAP", "127.0.0.1:59092"); // nothing listens in the pod: L1 alone
        env.put("TM_DB_URL", "jdbc:postgresql://127.0.0.1:55432/none");
        env.put("TM_PROXY_DRAIN_TIMEOUT_MS", "500");
        return env;
    }

    /** curl as the application: an unprivileged user, hello resolved to the peer's address. */
    private static String[] appCurl(String... args) {
        List<String> command = new ArrayList<>(List.of("setpriv", "--reuid=" + APP_UID, "--regid=" + APP_UID,
                "--clear-groups", "curl", "-sS", "-m", "10", "-w", "%{http_code}",
                "--resolve", "hello:80:" + PEER_ADDRESS, "--resolve", "hello:8080:" + PEER_ADDRESS,
                "--resolve", "hello.svc.cluster.local:80:" + PEER_ADDRESS));
        command.addAll(List.of(args));
        return command.toArray(String[]::new);
    }

    private static String app(NetworkNamespace pod, String... args) {
        Command.Result result = pod.run(ExternalClients.proxyEnv(Map.of()), appCurl(args));
        assertThat(result.exit()).as(result.output()).isZero();
        return result.output();
    }

    /** Packets that matched the rule exempting the sidecar's uid. */
    private static long ownerRulePackets(NetworkNamespace pod) {
        String rules = pod.check("iptables", "-t", "nat", "-nvxL", "TM_OUTPUT");
        return rules.lines().filter(line -> line.contains("owner UID match 0")).findFirst()
                .map(line -> Long.parseLong(line.trim().split("\\s+")[0]))
                .orElseThrow(() -> new AssertionError("no owner rule in:\n" + rules));
    }
}
