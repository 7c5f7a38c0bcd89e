package dev.trafficmanager.tmctl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** The control API over HTTP: JSON in, JSON out, every refusal an {@link ApiError}. */
public final class ApiClient {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    /** A successful answer: its status, body and {@code ETag} revision (0 when none). */
    public record Reply(int status, JsonNode body, long revision) {
    }

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final String base;
    private final String token;

    /** @param token may be null: only calls that need none then succeed */
    public ApiClient(String base, String token) {
        this.base = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
        this.token = token;
    }

    /** The API's base URL, without a trailing slash. */
    public String base() {
        return base;
    }

    public Reply get(String path) {
        return send("GET", path, null, null);
    }

    /** PUT {@code body}; {@code revision} null: no precondition, 0: create only, else {@code If-Match}. */
    public Reply put(String path, JsonNode body, Long revision) {
        return send("PUT", path, body, revision);
    }

    public Reply post(String path, JsonNode body, Long revision) {
        return send("POST", path, body, revision);
    }

    public Reply delete(String path, Long revision) {
        return send("DELETE", path, null, revision);
    }

    /** Every item of a paged list ({@code items}, {@code nextCursor}). */
    public List<JsonNode> listAll(String path) {
        List<JsonNode> items = new ArrayList<>();
        String cursor = null;
        do {
            String page = path + (path.contains("?") ? "&" : "?") + "limit=1000"
                    + (cursor == null ? "" : "&cursor=" + encode(cursor));
            JsonNode body = get(page).body();
            items.addAll(items(body.get("items")));
            JsonNode next = body.get("nextCursor");
            cursor = next == null || next.isNull() ? null : next.asText();
        } while (cursor != null);
        return items;
    }

    /** The {@code items} of a list that comes in one page ({@code GET /v1/splits/{tenant}}). */
    public List<JsonNode> items(String path) {
        return items(get(path).body().path("items"));
    }

    /** The elements of a JSON array; none for anything else. */
    public static List<JsonNode> items(JsonNode array) {
        List<JsonNode> items = new ArrayList<>();
        if (array != null && array.isArray()) {
            array.forEach(items::add);
        }
        return items;
    }

    public static String encode(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    private Reply send(String method, String path, JsonNode body, Long revision) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path)).timeout(TIMEOUT)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body.toString()));
        if (body != null) {
            request.header("Content-Type", "application/json");
        }
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        if (revision != null) {
            request.header(revision == 0 ? "If-None-Match" : "If-Match", revision == 0 ? "*" : "\"" + revision + "\"");
        }
        HttpResponse<String> response;
        try {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new ApiError(0, "unreachable", "cannot reach the control API at " + base + ": " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiError(0, "interrupted", "interrupted");
        }
        JsonNode json = parse(response.body());
        if (response.statusCode() >= 400) {
            throw new ApiError(response.statusCode(), json.path("error").asText("http_" + response.statusCode()),
                    json.path("message").asText(response.body()));
        }
        long etag = response.headers().firstValue("ETag").map(ApiClient::revision).orElse(0L);
        return new Reply(response.statusCode(), json, etag);
    }

    private static JsonNode parse(String text) {
        try {
            return text.isEmpty() ? MAPPER.createObjectNode() : MAPPER.readTree(text);
        } catch (IOException e) {
            return MAPPER.createObjectNode().put("message", text);
        }
    }

    private static long revision(String etag) {
        try {
            return Long.parseLong(etag.replace("\"", "").replace("W/", "").trim());
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
