package dev.trafficmanager.controlapi.auth;

import dev.trafficmanager.controlapi.db.Database;
import dev.trafficmanager.controlapi.http.ApiException;
import dev.trafficmanager.controlapi.http.ApiRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.security.MessageDigest;
import java.sql.PreparedStatement;
import java.sql.ResultSet;

/**
 * Resolves {@code Authorization: Bearer <token>} to a {@link Principal}. The admin token is compared
 * by hash in constant time; tenant tokens are looked up by their SHA-256, so the database never
 * holds a usable token. A client that fails too often ({@link ClientAddresses}: its address, or
 * the one a trusted proxy names) is refused for a while ({@link AuthFailures}), but a valid token
 * is always accepted: behind a load balancer many operators share an address, and one guessing
 * must not lock the others out. Blocks on JDBC: call from a worker thread.
 */
public final class Authenticator {
    private static final String BEARER = "Bearer ";

    /** Failed authentications an address may make per {@link #FAILURE_WINDOW_MILLIS} before it gets 429. */
    public static final int FAILURE_LIMIT = 20;
    public static final long FAILURE_WINDOW_MILLIS = 60_000;

    private final byte[] adminHash;
    private final Database database;
    private final AuthFailures failures = new AuthFailures(FAILURE_LIMIT, FAILURE_WINDOW_MILLIS, System::currentTimeMillis);
    private final ClientAddresses clients;

    public Authenticator(String adminToken, Database database, ClientAddresses clients) {
        this.adminHash = Tokens.hash(adminToken);
        this.database = database;
        this.clients = clients;
    }

    /**
     * The request's principal; 401 for a missing or wrong token, 429 instead once its client has
     * failed too often. A valid token is never refused.
     */
    public Principal authenticate(ApiRequest request) {
        try {
            return authenticate(request.authorization());
        } catch (ApiException e) {
            if (e.status().equals(HttpResponseStatus.UNAUTHORIZED)) { // not a database outage (503)
                String client = clients.key(request.client(), request.forwardedFor());
                failures.checkAllowed(client);
                failures.failed(client);
            }
            throw e;
        }
    }

    private Principal authenticate(String authorization) {
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
