package dev.berth.network.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.network.Network;
import dev.berth.network.NetworkException;
import dev.berth.network.PortMapping;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A network's plugin chain, run as libcni runs a conflist: {@code bridge} (with {@code host-local}
 * IPAM in Berth's storage root), {@code portmap} and {@code firewall}. Each plugin reads one
 * configuration, so the chain adds what libcni would: the network's {@code name} and
 * {@code cniVersion}, the {@code runtimeConfig} a plugin has the capability for (the port
 * mappings), and the previous plugin's result as {@code prevResult}. DEL runs in reverse order.
 */
public final class CniChain {
    public static final String CNI_VERSION = "1.0.0";
    private static final Logger LOG = LoggerFactory.getLogger(CniChain.class);

    private final CniPlugins plugins;
    private final Network network;
    private final Path ipamDir;

    /** @param ipamDir host-local's data directory: its leases, one directory per network name */
    public CniChain(CniPlugins plugins, Network network, Path ipamDir) {
        this.plugins = plugins;
        this.network = network;
        this.ipamDir = ipamDir;
    }

    /** The plugin configurations, in order, without the per-attachment parts. */
    List<ObjectNode> configs() {
        List<ObjectNode> out = new ArrayList<>();
        ObjectNode bridge = object("bridge");
        bridge.put("bridge", network.bridge());
        bridge.put("isGateway", true);
        bridge.put("ipMasq", !network.internal());
        bridge.put("hairpinMode", true); // a container reaches its own published port
        // a requested address (host-local reads the runtimeConfig the bridge hands it) and MAC
        bridge.putObject("capabilities").put("ips", true).put("mac", true);
        ObjectNode ipam = bridge.putObject("ipam");
        ipam.put("type", "host-local");
        ipam.put("dataDir", ipamDir.toString());
        ArrayNode ranges = ipam.putArray("ranges");
        ArrayNode routes = ipam.putArray("routes");
        for (Network.Range r : network.ranges()) {
            ObjectNode range = ranges.addArray().addObject();
            range.put("subnet", r.subnet().toString());
            range.put("gateway", dev.berth.network.Subnet.format(r.gateway()));
            if (!network.internal()) {
                routes.addObject().put("dst", r.subnet().isIpv6() ? "::/0" : "0.0.0.0/0");
            }
        }
        out.add(bridge);
        ObjectNode portmap = object("portmap");
        portmap.putObject("capabilities").put("portMappings", true);
        portmap.put("snat", true); // the host's own 127.0.0.1 and addresses reach a published port
        out.add(portmap);
        ObjectNode firewall = object("firewall");
        firewall.put("backend", "iptables");
        out.add(firewall);
        return out;
    }

    private ObjectNode object(String type) {
        ObjectNode o = CniPlugins.JSON.createObjectNode();
        o.put("cniVersion", CNI_VERSION);
        o.put("name", network.name());
        o.put("type", type);
        return o;
    }

    private static void runtimeConfig(ObjectNode config, List<PortMapping> ports) {
        runtimeConfig(config, ports, Request.NONE);
    }

    /** What a container asks of the chain beyond its ports: an address (with its prefix) and a MAC. */
    public record Request(java.util.Optional<String> ip, java.util.Optional<String> mac) {
        public static final Request NONE = new Request(java.util.Optional.empty(), java.util.Optional.empty());
    }

    /** libcni's job: the runtimeConfig of each capability the plugin declares and the container asks for. */
    private static void runtimeConfig(ObjectNode config, List<PortMapping> ports, Request request) {
        JsonNode caps = config.path("capabilities");
        if (caps.path("ips").asBoolean(false) && request.ip().isPresent()) {
            runtime(config).putArray("ips").add(request.ip().get());
        }
        if (caps.path("mac").asBoolean(false) && request.mac().isPresent()) {
            runtime(config).put("mac", request.mac().get());
        }
        if (!caps.path("portMappings").asBoolean(false)) {
            return;
        }
        ArrayNode list = runtime(config).putArray("portMappings");
        for (PortMapping p : ports) {
            ObjectNode m = list.addObject();
            m.put("hostPort", p.hostPort());
            m.put("containerPort", p.containerPort());
            m.put("protocol", p.protocol());
            if (!p.hostIp().isAnyLocalAddress()) {
                m.put("hostIP", dev.berth.network.Subnet.format(p.hostIp()));
            }
        }
    }

    private static ObjectNode runtime(ObjectNode config) {
        return config.has("runtimeConfig") ? (ObjectNode) config.get("runtimeConfig") : config.putObject("runtimeConfig");
    }

    public JsonNode add(String containerId, String netns, String ifName, List<PortMapping> ports) throws NetworkException {
        return add(containerId, netns, ifName, ports, Request.NONE);
    }

    /**
     * ADD through the whole chain. A plugin that fails leaves the ones before it added: the caller
     * runs {@link #del} (which every plugin must tolerate for what it never added).
     *
     * @return the last plugin's result: interfaces, IPs, routes, DNS
     */
    public JsonNode add(String containerId, String netns, String ifName, List<PortMapping> ports, Request request)
            throws NetworkException {
        JsonNode prev = null;
        for (ObjectNode c : configs()) {
            runtimeConfig(c, ports, request);
            if (prev != null) {
                c.set("prevResult", prev);
            }
            prev = plugins.run(new CniPlugins.Invocation("ADD", containerId, netns, ifName), c);
        }
        return prev;
    }

    /**
     * CHECK through the whole chain against the cached result. portmap's CHECK fails on a network
     * without IPv6 for want of its IPv6 chain (containernetworking/plugins issue 819): that
     * answer is taken as a pass there, any other failure is reported.
     */
    public void check(String containerId, String netns, String ifName, List<PortMapping> ports, JsonNode result)
            throws NetworkException {
        for (ObjectNode c : configs()) {
            runtimeConfig(c, ports);
            c.set("prevResult", result);
            try {
                plugins.run(new CniPlugins.Invocation("CHECK", containerId, netns, ifName), c);
            } catch (NetworkException e) {
                if (c.path("type").asText().equals("portmap") && !network.dualStack()
                        && e.getMessage().contains("ipv6")) {
                    LOG.debug("portmap CHECK on an IPv4 network: {}", e.getMessage());
                    continue;
                }
                throw e;
            }
        }
    }

    /**
     * DEL through the chain in reverse order; every plugin runs even when one fails (the first
     * failure is thrown after, the others added to it), so one broken plugin leaks nothing of the others.
     *
     * @param result the cached ADD result, or null when ADD never completed
     */
    public void del(String containerId, String netns, String ifName, List<PortMapping> ports, JsonNode result)
            throws NetworkException {
        List<ObjectNode> cs = configs();
        NetworkException first = null;
        for (int i = cs.size() - 1; i >= 0; i--) {
            ObjectNode c = cs.get(i);
            runtimeConfig(c, ports);
            if (result != null) {
                c.set("prevResult", result);
            }
            try {
                plugins.run(new CniPlugins.Invocation("DEL", containerId, netns, ifName), c);
            } catch (NetworkException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
