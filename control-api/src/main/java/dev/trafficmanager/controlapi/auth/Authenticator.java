package dev.trafficmanager.controlapi.auth;

import dev.trafficmanager.controlapi.db.Database;
import dev.trafficmanager.controlapi.http.ApiException;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.security.MessageDigest;
import java.sql.PreparedStatement;
import java.sql.ResultSet;

/**
 * Resolves {@code Authorization: Bearer <token>} to a {@link Principal}. The admin token is compared
 * by hash in constant time; tenant tokens are looked up by their SHA-256, so the database never
 * holds a usable token. Blocks on JDBC: call from a worker thread.
 */
public final class Authenticator {
    private static final String BEARER = "Bearer ";

    private final byte[] adminHash;
    private final Database database;

    public Authenticator(String adminToken, Database database) {
        this.adminHash = Tokens.hash(adminToken);
        this.database = database;
    }

    public Principal authenticate(String authorization) {
        if (authorization == null || authorization.isBlank()) {
            throw unauthorized("missing Authorization: Bearer <token>");
        }
        if (!authorization.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            throw unauthorized("Authorization must use the Bearer scheme");
        }
        byte[] hash = Tokens.hash(authorization.substring(BEARER.length()).trim());
        if (MessageDigest.isEqual(hash, adminHash)) {
            return Principal.ADMIN;
        }
        String tenant = database.inTransaction(connection -> {
            try (PreparedStatement statement = connection.prepareStatement(
                    "SELECT t.name FROM api_tokens k JOIN tenants t ON t.id = k.tenant_id"
                            + " WHERE k.token_hash = ? AND k.revoked_at IS NULL")) {
                statement.setBytes(1, hash);
                try (ResultSet rows = statement.executeQuery()) {
                    return rows.next() ? rows.getString(1) : null;
                }
            }
        });
        if (tenant == null) {
            throw unauthorized("unknown or revoked token");
        }
        return Principal.tenant(tenant);
    }

    private static ApiException unauthorized(String message) {
        return new ApiException(HttpResponseStatus.UNAUTHORIZED, "unauthorized", message)
                .withHeader("WWW-Authenticate", "Bearer");
    }
}
