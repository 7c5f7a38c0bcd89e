package dev.trafficmanager.proxy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * What this process is on its node, from {@code TM_ROLE} and {@code TM_AGENT_SOCKET}: a standalone
 * sidecar (the default: no socket), a sidecar in node mode (a socket: routes through the node
 * agent), or the node agent itself ({@code TM_ROLE=agent}, listening on the socket, default
 * {@value #DEFAULT_SOCKET}).
 *
 * @param agent  TM_ROLE, default sidecar; agent makes this process the node agent
 * @param socket TM_AGENT_SOCKET: the agent's Unix domain socket; null for a standalone sidecar
 */
public record NodeRole(boolean agent, Path socket) {
    public static final String DEFAULT_SOCKET = "/var/run/traffic-manager/agent.sock";
    /** sun_path holds 108 bytes with its terminating NUL. */
    private static final int MAX_SOCKET_PATH = 107;

    public static NodeRole fromEnv(Map<String, String> env) {
        String role = env.getOrDefault("TM_ROLE", "sidecar").trim().toLowerCase(Locale.ROOT);
        String socket = env.get("TM_AGENT_SOCKET");
        socket = socket == null || socket.isBlank() ? null : socket.trim();
        boolean agent = switch (role) {
            case "sidecar" -> false;
            case "agent" -> true;
            default -> throw new IllegalArgumentException("TM_ROLE: \"" + role + "\" (expected: sidecar or agent)");
        };
        if (agent && socket == null) {
            socket = DEFAULT_SOCKET;
        }
        if (socket != null && socket.getBytes(StandardCharsets.UTF_8).length > MAX_SOCKET_PATH) {
            throw new IllegalArgumentException("TM_AGENT_SOCKET: \"" + socket + "\" (expected: a path of at most "
                    + MAX_SOCKET_PATH + " bytes, the limit of a Unix domain socket's address)");
        }
        return new NodeRole(agent, socket == null ? null : Path.of(socket));
    }
}
