package dev.trafficmanager.controlapi;

import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Starts the control API from environment variables; SIGTERM or Ctrl-C stops it in order. */
public final class Main {
    private static final Logger log = LoggerFactory.getLogger(Main.class);

    private Main() {
    }

    public static void main(String[] args) throws InterruptedException {
        ControlApiConfig config;
        try {
            config = ControlApiConfig.fromEnv(System.getenv());
        } catch (IllegalArgumentException e) {
            System.err.println("control-api: invalid configuration: " + e.getMessage());
            System.exit(2);
            return;
        }
        ControlApi api = ControlApi.start(config);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            log.info("stopping");
            api.close();
            stopped.countDown();
        }, "shutdown"));
        stopped.await();
    }
}
