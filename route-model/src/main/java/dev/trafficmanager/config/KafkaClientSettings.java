package dev.trafficmanager.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * The Kafka client settings both servers share, on top of the ones each sets itself:
 * <ul>
 *   <li>{@code TM_KAFKA_USER} and {@code TM_KAFKA_PASSWORD}: SASL/SCRAM credentials
 *       ({@code TM_KAFKA_SASL_MECHANISM}, default {@code SCRAM-SHA-256}; the security protocol
 *       becomes {@code SASL_PLAINTEXT} unless set);</li>
 *   <li>{@code TM_KAFKA_PROPERTIES_FILE}: a Java properties file of any client properties (TLS
 *       trust and key stores, another SASL mechanism...);</li>
 *   <li>{@code TM_KAFKA_CLIENT_<NAME>}: any client property by environment variable, its name
 *       lower-cased with {@code _} read as {@code .} ({@code TM_KAFKA_CLIENT_SECURITY_PROTOCOL=SASL_SSL}).</li>
 * </ul>
 * Later entries win: the credentials, then the file, then the variables. Immutable.
 */
public final class KafkaClientSettings {
    private static final String CLIENT_PREFIX = "TM_KAFKA_CLIENT_";

    private final Map<String, String> properties;

    private KafkaClientSettings(Map<String, String> properties) {
        this.properties = Map.copyOf(properties);
    }

    /** Reads the settings; throws naming the variable for a password without a user, or a file that cannot be read. */
    public static KafkaClientSettings fromEnv(Map<String, String> env) {
        Settings s = new Settings(env);
        Map<String, String> props = new TreeMap<>();
        String user = s.string("TM_KAFKA_USER", null);
        String password = s.string("TM_KAFKA_PASSWORD", null);
        if (user != null) {
            if (password == null) {
                throw new IllegalArgumentException("TM_KAFKA_PASSWORD: not set (expected: the password of TM_KAFKA_USER " + user + ")");
            }
            String mechanism = s.string("TM_KAFKA_SASL_MECHANISM", "SCRAM-SHA-256");
            props.put("security.protocol", "SASL_PLAINTEXT");
            props.put("sasl.mechanism", mechanism);
            String module = mechanism.startsWith("SCRAM-") ? "org.apache.kafka.common.security.scram.ScramLoginModule"
                    : "org.apache.kafka.common.security.plain.PlainLoginModule";
            props.put("sasl.jaas.config", module + " required username=\"" + jaasQuoted(user)
                    + "\" password=\"" + jaasQuoted(password) + "\";");
        } else if (password != null) {
            throw new IllegalArgumentException("TM_KAFKA_USER: not set (expected: the user TM_KAFKA_PASSWORD belongs to)");
        }
        String file = s.string("TM_KAFKA_PROPERTIES_FILE", null);
        if (file != null) {
            Properties loaded = new Properties();
            try (Reader in = Files.newBufferedReader(Path.of(file), StandardCharsets.UTF_8)) {
                loaded.load(in);
            } catch (IOException e) {
                throw new IllegalArgumentException("TM_KAFKA_PROPERTIES_FILE: " + file + " (cannot read it: " + e + ")");
            }
            loaded.stringPropertyNames().forEach(name -> props.put(name, loaded.getProperty(name)));
        }
        env.forEach((name, value) -> {
            if (name.startsWith(CLIENT_PREFIX) && name.length() > CLIENT_PREFIX.length()) {
                props.put(name.substring(CLIENT_PREFIX.length()).toLowerCase(Locale.ROOT).replace('_', '.'), value);
            }
        });
        return new KafkaClientSettings(props);
    }

    /** Adds these settings to {@code props}, over what is there. */
    public Properties applyTo(Properties props) {
        props.putAll(properties);
        return props;
    }

    /** The properties, for logs: secrets masked. */
    @Override
    public String toString() {
        Map<String, String> shown = new TreeMap<>(properties);
        shown.replaceAll((name, value) -> name.contains("password") || name.contains("jaas") ? "****" : value);
        return shown.toString();
    }

    private static String jaasQuoted(String value) {
        return value.replace("\\", "\\\\").replace("\"", "\\\"");
    }
}
