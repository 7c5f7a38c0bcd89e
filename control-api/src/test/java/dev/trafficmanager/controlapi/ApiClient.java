package dev.trafficmanager.controlapi;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** A small JSON client for the control API under test. */
public final class ApiClient {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    public record Response(int status, JsonNode body, HttpResponse<String> raw) {
        public String error() {
            return body.path("error").asText();
        }

        public String header(String name) {
            return raw.headers().firstValue(name).orElse(null);
        }
    }

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final String base;

    public ApiClient(int port) {
        this.base = "http://127.0.0.1:" + port;
    }

    public Response get(String path, String token) {
        return send(builder(path, token).GET());
    }

    public Response put(String path, String token, String body, String... headers) {
        return send(builder(path, token, headers).PUT(HttpRequest.BodyPublishers.ofString(body)));
    }

    public Response post(String path, String token, String body, String... headers) {
        return send(builder(path, token, headers).POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    public Response method(String method, String path, String token, String... headers) {
        return send(builder(path, token, headers).method(method, HttpRequest.BodyPublishers.noBody()));
    }

    /** Creates a tenant with the admin token and returns its own token. */
    public String createTenant(String adminToken, String name) {
        Response response = post("/v1/tenants", adminToken, "{\"name\":\"" + name + "\"}");
        if (response.status() != 201) {
            throw new AssertionError("creating tenant " + name + ": " + response.status() + " " + response.body());
        }
        return response.body().get("token").asText();
    }

    public static String urlBody(String url) {
        return "{\"url\":\"" + url + "\"}";
    }

    private HttpRequest.Builder builder(String path, String token, String... headers) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30));
        if (token != null) {
            builder.header("Authorization", "Bearer " + token);
        }
        for (int i = 0; i < headers.length; i += 2) {
            builder.header(headers[i], headers[i + 1]);
        }
        return builder;
    }

    private Response send(HttpRequest.Builder builder) {
        try {
            HttpResponse<String> response = http.send(builder.build(), HttpResponse.BodyHandlers.ofString());
            JsonNode body = response.body().isEmpty() ? MAPPER.missingNode() : parse(response.body());
            return new Response(response.statusCode(), body, response);
        } catch (IOException e) {
            throw new AssertionError("request failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    private static JsonNode parse(String body) {
        try {
            return MAPPER.readTree(body);
        } catch (IOException e) {
            return MAPPER.getNodeFactory().textNode(body); // not JSON (the OpenAPI document)
        }
    }
}
