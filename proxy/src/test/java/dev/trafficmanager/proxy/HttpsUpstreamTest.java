package dev.trafficmanager.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trafficmanager.testing.LocalStack;
import dev.trafficmanager.testing.Poll;
import dev.trafficmanager.testing.TestUpstream;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** https upstreams: verified against TM_UPSTREAM_CA_FILE, refused (502) when not trusted. */
@ExtendWith(LocalStack.class)
class HttpsUpstreamTest {
    private static final char[] PASSWORD = "changeit".toCharArray();

    @TempDir
    Path dir;

    private void keytool(String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "keytool").toString()));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes());
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(output).isZero();
    }

    private SSLContext serverTls(Path keystore) throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keystore)) {
            store.load(in, PASSWORD);
        }
        KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keys.init(store, PASSWORD);
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(keys.getKeyManagers(), null, null);
        return tls;
    }

    @Test
    void anHttpsUpstreamIsReachedWhenItsCertificateIsTrustedAndRefusedOtherwise() throws Exception {
        Path keystore = dir.resolve("upstream.p12");
        Path ca = dir.resolve("ca.pem");
        keytool("-genkeypair", "-alias", "upstream", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=localhost",
                "-ext", "SAN=ip:127.0.0.1,dns:localhost", "-validity", "2", "-storetype", "PKCS12",
                "-keystore", keystore.toString(), "-storepass", "changeit");
        keytool("-exportcert", "-rfc", "-alias", "upstream", "-keystore", keystore.toString(), "-storepass", "changeit",
                "-file", ca.toString());
        try (SidecarHarness harness = SidecarHarness.start();
             TestUpstream upstream = TestUpstream.startTls("tls", serverTls(keystore))) {
            harness.put("secure", "v1", upstream.url("/base"));

            Map<String, String> env = harness.sidecarEnv(dir.resolve("trusting.l1"));
            env.put("TM_UPSTREAM_CA_FILE", ca.toString());
            try (Sidecar trusting = SidecarHarness.startReady(env)) {
                HttpResponse<String> response = Poll.value(Duration.ofSeconds(2), "served over TLS", () -> {
                    HttpResponse<String> r = harness.get(trusting, "/x", "secure", "v1");
                    return r.statusCode() == 200 ? r : null;
                });
                assertThat(response.body()).isEqualTo("tls GET /base/x\n");
            }

            try (Sidecar untrusting = SidecarHarness.startReady(harness.sidecarEnv(dir.resolve("default.l1")))) {
                HttpResponse<String> response = harness.get(untrusting, "/x", "secure", "v1");
                assertThat(response.statusCode()).isEqualTo(502);
                assertThat(response.body()).contains("\"error\":\"upstream_unreachable\"");
            }
        }
    }
}
