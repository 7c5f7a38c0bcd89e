package dev.trafficmanager.proxy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A raw-socket upstream that answers with exactly the bytes a test scripts, to see what the
 * sidecar sends and how it copes with responses no well-behaved server library would produce.
 * The script gets the request's index on its connection (0 for the first) and returns the raw
 * response, or null to close the connection without answering; a response ending in
 * {@link #RESET} is written without that marker and the connection is then reset (TCP RST).
 */
final class ScriptedUpstream implements AutoCloseable {
    /** Ends a scripted response to reset the connection after writing it. */
    static final String RESET = "\u0000reset";

    interface Script {
        String respond(int indexOnConnection, String requestHead);
    }

    private final ServerSocket server;
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final Script script;
    final List<String> requestHeads = new CopyOnWriteArrayList<>();
    final AtomicInteger connections = new AtomicInteger();

    ScriptedUpstream(Script script) throws IOException {
        this.script = script;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        threads.execute(this::accept);
    }

    String url(String path) {
        return "http://127.0.0.1:" + server.getLocalPort() + path;
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket socket = server.accept();
                connections.incrementAndGet();
                threads.execute(() -> serve(socket));
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void serve(Socket socket) {
        try (socket; InputStream in = socket.getInputStream(); OutputStream out = socket.getOutputStream()) {
            for (int index = 0; ; index++) {
                String head = readHead(in);
                if (head == null) {
                    return;
                }
                requestHeads.add(head);
                skipBody(in, head);
                String response = script.respond(index, head);
                if (response == null) {
                    return;
                }
                boolean reset = response.endsWith(RESET);
                if (reset) {
                    response = response.substring(0, response.length() - RESET.length());
                }
                out.write(response.getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
                if (reset) {
                    socket.setSoLinger(true, 0); // close sends RST
                    return;
                }
            }
        } catch (IOException e) {
            // the sidecar closed the connection
        }
    }

    static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        for (int b; (b = in.read()) >= 0; ) {
            head.write(b);
            matched = (b == '\r' && matched % 2 == 0) || (b == '\n' && matched % 2 == 1) ? matched + 1 : 0;
            if (matched == 4) {
                return head.toString(StandardCharsets.ISO_8859_1);
            }
        }
        return null;
    }

    private static void skipBody(InputStream in, String head) throws IOException {
        for (String line : head.split("\r\n")) {
            if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
                in.readNBytes(Integer.parseInt(line.substring(15).trim()));
            }
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        threads.shutdownNow();
    }
}
