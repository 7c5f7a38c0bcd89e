package dev.trafficmanager.proxy;

import dev.trafficmanager.config.Settings;
import java.util.Map;

/**
 * The sidecar's settings, read once at start from environment variables. The proxy port and the
 * lookup settings join with the data-plane issue.
 *
 * @param adminBind TM_PROXY_ADMIN_BIND, default 127.0.0.1: the admin port is for the node only
 * @param adminPort TM_PROXY_ADMIN_PORT, default 15000
 */
public record ProxyConfig(String adminBind, int adminPort) {

    public static ProxyConfig fromEnv(Map<String, String> env) {
        Settings s = new Settings(env);
        return new ProxyConfig(s.string("TM_PROXY_ADMIN_BIND", "127.0.0.1"),
                s.integer("TM_PROXY_ADMIN_PORT", 15000, 0, 65535));
    }
}
