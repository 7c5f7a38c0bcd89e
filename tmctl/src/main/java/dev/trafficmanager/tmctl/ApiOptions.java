package dev.trafficmanager.tmctl;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Where the control API is and the token to show it: options first, then TM_API / TM_TOKEN. */
public final class ApiOptions {
    @Option(names = "--api", paramLabel = "URL", defaultValue = "${env:TM_API:-http://127.0.0.1:8081}",
            description = "the control API (env TM_API; default: ${DEFAULT-VALUE})")
    String api;

    @Option(names = "--token", paramLabel = "TOKEN", defaultValue = "${env:TM_TOKEN}",
            description = "the admin's or a tenant's token (env TM_TOKEN)")
    String token;

    @Option(names = "--token-file", paramLabel = "FILE", description = "read the token from FILE (first line)")
    Path tokenFile;

    public ApiClient client() {
        return new ApiClient(api, token());
    }

    private String token() {
        if (tokenFile == null) {
            return token == null || token.isBlank() ? null : token.trim();
        }
        try {
            String text = Files.readString(tokenFile, StandardCharsets.UTF_8).strip();
            int newline = text.indexOf('\n');
            return newline < 0 ? text : text.substring(0, newline).strip();
        } catch (IOException e) {
            throw new UsageError("--token-file " + tokenFile + ": cannot read it (" + e.getMessage() + ")");
        }
    }
}
