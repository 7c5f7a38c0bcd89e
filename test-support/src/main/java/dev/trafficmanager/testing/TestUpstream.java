package dev.trafficmanager.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;

/**
 * A real HTTP server (the JDK's) standing in for a service behind the sidecar, on loopback. Every
 * response carries {@code x-upstream: <name>} and what the request looked like on arrival:
 * <ul>
 *   <li>{@code /slow?ms=N...}: answers after N ms</li>
 *   <li>{@code /bytes?n=N...}: a chunked body of N deterministic bytes ({@link #pattern})</li>
 *   <li>{@code /sha256...}: reads the request body, answers its SHA-256 in hex and its length</li>
 *   <li>anything else: a small text body describing the request</li>
 * </ul>
 * Also the demo upstream of {@code make run}: {@code java -cp test-support.jar
 * dev.trafficmanager.testing.TestUpstream PORT NAME}.
 */
public final class TestUpstream implements AutoCloseable {
    static {
        // The JDK server writes a response's head and body separately: without TCP_NODELAY, Nagle's
        // algorithm and the client's delayed ACK add 40 ms to every keep-alive response.
        System.setProperty("sun.net.httpserver.nodelay", "true");
    }

    private final String name;
    private final HttpServer server;
    private final ExecutorService workers = Executors.newFixedThreadPool(32);
    private final AtomicInteger requests = new AtomicInteger();

    private final String scheme;

    private TestUpstream(String name, HttpServer server, String scheme) {
        this.name = name;
        this.server = server;
        this.scheme = scheme;
        server.createContext("/", this::handle);
        server.setExecutor(workers);
        server.start();
    }

    public static TestUpstream start(String name) throws IOException {
        return start(name, 0);
    }

    public static TestUpstream start(String name, int port) throws IOException {
        return start(name, "127.0.0.1", port);
    }

    /** On {@code address}: loopback, or another address in a test's own network namespace. */
    public static TestUpstream start(String name, String address, int port) throws IOException {
        return new TestUpstream(name, HttpServer.create(new InetSocketAddress(address, port), 128), "http");
    }

    /** An https upstream on a free port, serving the key and certificate in {@code tls}. */
    public static TestUpstream startTls(String name, SSLContext tls) throws IOException {
        HttpsServer server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 128);
        server.setHttpsConfigurator(new HttpsConfigurator(tls));
        return new TestUpstream(name, server, "https");
    }

    public int port() {
        return server.getAddress().getPort();
    }

    public String url(String basePath) {
        return scheme + "://127.0.0.1:" + port() + basePath;
    }

    /** How many requests reached this upstream. */
    public int requests() {
        return requests.get();
    }

    /** Byte {@code i} of every {@code /bytes} body. */
    public static byte pattern(long i) {
        return (byte) (i * 31 + (i >>> 8));
    }

    private void handle(HttpExchange exchange) throws IOException {
        requests.incrementAndGet();
        try (exchange) {
            URI uri = exchange.getRequestURI();
            String path = uri.getRawPath();
            exchange.getResponseHeaders().set("x-upstream", name);
            exchange.getResponseHeaders().set("x-seen-uri", uri.toString());
            exchange.getResponseHeaders().set("x-seen-host", String.valueOf(exchange.getRequestHeaders().getFirst("Host")));
            exchange.getResponseHeaders().set("x-seen-forwarded-for", String.valueOf(exchange.getRequestHeaders().getFirst("X-Forwarded-For")));
            exchange.getResponseHeaders().set("x-seen-connection", String.valueOf(exchange.getRequestHeaders().getFirst("Connection")));
            exchange.getResponseHeaders().set("x-seen-via", String.valueOf(exchange.getRequestHeaders().getFirst("Via")));
            if (path.contains("/slow")) {
                sleep(queryLong(uri, "ms", 1000));
                reply(exchange, 200, "slow " + name + "\n");
            } else if (path.contains("/bytes")) {
                long n = queryLong(uri, "n", 0);
                exchange.sendResponseHeaders(200, 0); // chunked
                byte[] buffer = new byte[64 * 1024];
                try (OutputStream out = exchange.getResponseBody()) {
                    for (long sent = 0; sent < n; ) {
                        int len = (int) Math.min(buffer.length, n - sent);
                        for (int i = 0; i < len; i++) {
                            buffer[i] = pattern(sent + i);
                        }
                        out.write(buffer, 0, len);
                        sent += len;
                    }
                }
            } else if (path.contains("/sha256")) {
                MessageDigest digest = MessageDigest.getInstance("SHA-256");
                long length = 0;
                byte[] buffer = new byte[64 * 1024];
                try (InputStream in = exchange.getRequestBody()) {
                    for (int read; (read = in.read(buffer)) > 0; ) {
                        digest.update(buffer, 0, read);
                        length += read;
                    }
                }
                reply(exchange, 200, HexFormat.of().formatHex(digest.digest()) + " " + length + "\n");
            } else {
                exchange.getRequestBody().transferTo(OutputStream.nullOutputStream());
                reply(exchange, 200, name + " " + exchange.getRequestMethod() + " " + uri + "\n");
            }
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void reply(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "text/plain");
        boolean head = exchange.getRequestMethod().equals("HEAD");
        exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
        if (!head) {
            exchange.getResponseBody().write(bytes);
        }
    }

    private static long queryLong(URI uri, String name, long fallback) {
        String query = uri.getRawQuery();
        if (query != null) {
            for (String pair : query.split("&")) {
                if (pair.startsWith(name + "=")) {
                    return Long.parseLong(pair.substring(name.length() + 1));
                }
            }
        }
        return fallback;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        server.stop(0);
        workers.shutdownNow();
        try {
            workers.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** {@code PORT [NAME [ADDRESS]]}: runs until killed. */
    public static void main(String[] args) throws IOException {
        String address = args.length > 2 ? args[2] : "127.0.0.1";
        TestUpstream upstream = start(args.length > 1 ? args[1] : "demo", address, Integer.parseInt(args[0]));
        System.out.println("upstream " + upstream.name + " on http://" + address + ":" + upstream.port());
    }
}
