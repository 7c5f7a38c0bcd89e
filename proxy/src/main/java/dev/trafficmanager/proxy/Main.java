package dev.trafficmanager.proxy;

import dev.trafficmanager.proxy.admin.AdminServer;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Starts the sidecar from environment variables; SIGTERM or Ctrl-C stops it. */
public final class Main {
    private static final Logger log = LoggerFactory.getLogger(Main.class);

    private Main() {
    }

    public static void main(String[] args) throws InterruptedException {
        ProxyConfig config;
        try {
            config = ProxyConfig.fromEnv(System.getenv());
        } catch (IllegalArgumentException e) {
            System.err.println("proxy: invalid configuration: " + e.getMessage());
            System.exit(2);
            return;
        }
        AdminServer admin = AdminServer.start(config.adminBind(), config.adminPort());
        log.info("sidecar admin port listening on {}:{}", config.adminBind(), admin.port());
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            admin.close();
            stopped.countDown();
        }, "shutdown"));
        stopped.await();
    }
}
