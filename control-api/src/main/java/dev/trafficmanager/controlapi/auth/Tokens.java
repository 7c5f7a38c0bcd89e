package dev.trafficmanager.controlapi.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;

/** Makes and hashes API tokens. Only hashes are stored; tokens are shown once. Thread-safe. */
public final class Tokens {
    private static final String PREFIX = "tm_";
    private final SecureRandom random = new SecureRandom();

    /** A new token: {@code tm_} and 256 random bits, base64url. */
    public String newToken() {
        byte[] bytes = new byte[32];
        random.nextBytes(bytes);
        return PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    public static byte[] hash(String token) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }
}
