package dev.trafficmanager.controlapi.tenants;

import dev.trafficmanager.controlapi.auth.Authenticator;
import dev.trafficmanager.controlapi.auth.Tokens;
import dev.trafficmanager.controlapi.db.Database;
import dev.trafficmanager.controlapi.http.ApiException;
import dev.trafficmanager.controlapi.http.ApiRequest;
import dev.trafficmanager.controlapi.http.ApiResponse;
import dev.trafficmanager.controlapi.http.Json;
import dev.trafficmanager.controlapi.http.Router;
import dev.trafficmanager.route.Names;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** {@code POST /v1/tenants}: the admin creates a tenant and receives its token, shown this once. */
public final class TenantsApi {
    private final Database database;
    private final Authenticator authenticator;
    private final Tokens tokens;
    private final Json json;

    public TenantsApi(Database database, Authenticator authenticator, Tokens tokens, Json json) {
        this.database = database;
        this.authenticator = authenticator;
        this.tokens = tokens;
        this.json = json;
    }

    public void register(Router router) {
        router.add(HttpMethod.POST, "/v1/tenants", this::create);
    }

    private ApiResponse create(ApiRequest request) {
        authenticator.authenticate(request).requireAdmin();
        String name = json.readObject(request.body(), Set.of("name")).get("name").asText();
        ApiException.validInput(() -> Names.require("name", name));
        String token = tokens.newToken();
        boolean created = database.inTransaction(c -> {
            Long tenantId;
            try (PreparedStatement insert = c.prepareStatement(
                    "INSERT INTO tenants (name) VALUES (?) ON CONFLICT (name) DO NOTHING RETURNING id")) {
                insert.setString(1, name);
                try (ResultSet rows = insert.executeQuery()) {
                    tenantId = rows.next() ? rows.getLong(1) : null;
                }
            }
            if (tenantId == null) {
                return false;
            }
            try (PreparedStatement insert = c.prepareStatement(
                    "INSERT INTO api_tokens (tenant_id, token_hash) VALUES (?, ?)")) {
                insert.setLong(1, tenantId);
                insert.setBytes(2, Tokens.hash(token));
                insert.executeUpdate();
            }
            return true;
        });
        if (!created) {
            throw new ApiException(HttpResponseStatus.CONFLICT, "tenant_exists", "tenant " + name + " already exists");
        }
        Map<String, String> body = new LinkedHashMap<>();
        body.put("name", name);
        body.put("token", token);
        return ApiResponse.json(HttpResponseStatus.CREATED, body).withHeader("Cache-Control", "no-store");
    }
}
