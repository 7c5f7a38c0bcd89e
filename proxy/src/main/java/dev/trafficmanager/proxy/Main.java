package dev.trafficmanager.proxy;

import io.netty.util.ResourceLeakDetector;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts the sidecar, or the node agent ({@code TM_ROLE=agent}), from environment variables;
 * SIGTERM or Ctrl-C drains and stops it.
 */
public final class Main {
    private static final Logger log = LoggerFactory.getLogger(Main.class);

    private Main() {
    }

    public static void main(String[] args) throws Exception {
        if (System.getProperty("io.netty.leakDetection.level") == null) {
            // Netty samples one buffer in 128 with a stack trace by default: 3 % of the sidecar's CPU
            // under load here. Every test runs at PARANOID and fails on a leak report; pass
            // -Dio.netty.leakDetection.level=simple (or paranoid) to watch a running sidecar.
            ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        }
        ProxyConfig config;
        NodeRole role;
        try {
            config = ProxyConfig.fromEnv(System.getenv());
            role = NodeRole.fromEnv(System.getenv());
        } catch (IllegalArgumentException e) {
            System.err.println("proxy: invalid configuration: " + e.getMessage());
            System.exit(2);
            return;
        }
        AutoCloseable running;
        if (role.agent()) {
            running = NodeAgent.start(config, role.socket());
        } else {
            running = role.socket() == null ? Sidecar.start(config) : Sidecar.inNodeMode(config, role.socket());
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            log.info("stopping: draining requests in flight for up to {} ms", config.drainTimeout().toMillis());
            try {
                running.close();
            } catch (Exception e) {
                log.error("stopping", e);
            }
            stopped.countDown();
        }, "shutdown"));
        stopped.await();
    }
}
