package dev.trafficmanager.tmctl;

import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;

/** Standard output and error as UTF-8 writers, whatever the platform's default. */
final class Out {
    private static final PrintWriter OUT = new PrintWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), true);
    private static final PrintWriter ERR = new PrintWriter(new OutputStreamWriter(System.err, StandardCharsets.UTF_8), true);

    private Out() {
    }

    static PrintWriter out() {
        return OUT;
    }

    static PrintWriter err() {
        return ERR;
    }
}
