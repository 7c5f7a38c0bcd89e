package dev.trafficmanager.loadtest.fleet;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A steady load through the node sidecars: {@code rate} GETs a second, each to a random sidecar for
 * a random route of its tenant (every one of them known), with the time of every error kept, and
 * marks that split the run into phases.
 */
final class Load {
    record Event(long atMillis, String what) {
    }

    private final HttpClient http;
    private final List<FleetProcess> nodes;
    private final int routes;
    private final int rate;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final AtomicLong sent = new AtomicLong();
    private final AtomicInteger inFlight = new AtomicInteger();
    final ConcurrentLinkedQueue<Event> errors = new ConcurrentLinkedQueue<>();
    final List<Event> marks = new ArrayList<>();
    final List<long[]> requests = new ArrayList<>(); // {atMillis, sent so far} at each mark

    Load(HttpClient http, List<FleetProcess> nodes, int routes, int rate) {
        this.http = http;
        this.nodes = nodes;
        this.routes = routes;
        this.rate = rate;
    }

    void start() {
        mark("load started");
        timer.scheduleAtFixedRate(this::send, 0, 1_000_000_000L / rate, TimeUnit.NANOSECONDS);
    }

    private void send() {
        if (inFlight.get() > 1000) {
            errors.add(new Event(System.currentTimeMillis(), "client backlog over 1000: request not sent"));
            return;
        }
        FleetProcess node = nodes.get(ThreadLocalRandom.current().nextInt(nodes.size()));
        String service = "svc-" + ThreadLocalRandom.current().nextInt(routes);
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.proxyPort() + "/"))
                .header("x-tm-service", service).timeout(Duration.ofSeconds(5)).build();
        sent.incrementAndGet();
        inFlight.incrementAndGet();
        http.sendAsync(request, HttpResponse.BodyHandlers.discarding()).whenComplete((response, error) -> {
            inFlight.decrementAndGet();
            if (error != null) {
                errors.add(new Event(System.currentTimeMillis(), node.name() + " " + service + ": " + error));
            } else if (response.statusCode() != 200) {
                errors.add(new Event(System.currentTimeMillis(), node.name() + " " + service + ": " + response.statusCode()));
            }
        });
    }

    synchronized void mark(String what) {
        marks.add(new Event(System.currentTimeMillis(), what));
        requests.add(new long[] {System.currentTimeMillis(), sent.get()});
    }

    long errorsBetween(long fromMillis, long toMillis) {
        return errors.stream().filter(e -> e.atMillis() >= fromMillis && e.atMillis() < toMillis).count();
    }

    long sent() {
        return sent.get();
    }

    int rate() {
        return rate;
    }

    void stop() throws InterruptedException {
        timer.shutdown();
        timer.awaitTermination(5, TimeUnit.SECONDS);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (inFlight.get() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        mark("load stopped");
    }
}
