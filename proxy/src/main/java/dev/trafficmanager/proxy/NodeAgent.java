package dev.trafficmanager.proxy;

import dev.trafficmanager.proxy.admin.AdminHandler;
import dev.trafficmanager.proxy.admin.AdminServer;
import dev.trafficmanager.proxy.agent.AgentServer;
import dev.trafficmanager.proxy.metrics.ProxyMetrics;
import dev.trafficmanager.proxy.routing.RequestRouter;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node agent ({@code TM_ROLE=agent}): the node's only client of Kafka, Redis and PostgreSQL. It
 * owns the node's L1 file (its only writer), applies the route events of the tenants it serves
 * ({@code TM_ALLOWED_TENANTS}), answers its sidecars' lookups on its Unix domain socket, and its
 * admin port answers {@code /healthz}, {@code /readyz} (once caught up with its partitions) and
 * {@code /metrics} for the DaemonSet's probes.
 */
public final class NodeAgent implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(NodeAgent.class);

    private final ProxyMetrics metrics = new ProxyMetrics();
    private final RouteTiers tiers;
    private final AgentServer server;
    private final AdminServer admin;

    private NodeAgent(ProxyConfig config, Path socket) throws InterruptedException {
        tiers = RouteTiers.withStores(config, metrics, System::currentTimeMillis);
        try {
            server = AgentServer.start(socket, tiers.resolver(), config.tenants(), metrics, config.eventLoops());
            RequestRouter router = new RequestRouter(config.headers(), config.defaults(), config.tenants(), config.outbound());
            admin = AdminServer.start(Transport.select(config.transport()), config.adminBind(), config.adminPort(),
                    () -> new AdminHandler(metrics, tiers.resolver(), router, this::notReady, tiers::unhealthy));
        } catch (InterruptedException | RuntimeException e) {
            tiers.close();
            throw e;
        }
        log.info("node agent on {}, admin on {}:{}, L1 {} ({} entries)", socket, config.adminBind(), admin.port(),
                config.l1File(), tiers.l1().size());
    }

    public static NodeAgent start(ProxyConfig config, Path socket) throws InterruptedException {
        return new NodeAgent(config, socket);
    }

    private String notReady() {
        String broken = tiers.unhealthy();
        return broken != null ? broken : tiers.notReady();
    }

    public boolean ready() {
        return notReady() == null;
    }

    public int adminPort() {
        return admin.port();
    }

    public ProxyMetrics metrics() {
        return metrics;
    }

    @Override
    public void close() {
        server.close();
        admin.close();
        tiers.close();
        metrics.close();
        log.info("node agent stopped");
    }
}
