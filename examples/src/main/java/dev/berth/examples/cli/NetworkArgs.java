package dev.berth.examples.cli;

import dev.berth.core.ContainerSpec;
import dev.berth.core.NetworkMode;
import dev.berth.network.PortMapping;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Docker's network options of {@code run} on a {@link ContainerSpec}: {@code --network},
 * {@code -p}, {@code -P}, {@code --network-alias}, {@code --ip}, {@code --mac-address}.
 */
final class NetworkArgs {
    private NetworkArgs() {}

    /**
     * @param exposed the image's {@code ExposedPorts} ({@code 80/tcp}), published on ephemeral host ports with -P
     * @throws IllegalArgumentException naming the option
     */
    static void apply(ContainerSpec.Builder b, String network, List<String> publish, boolean publishAll,
            Collection<String> exposed, List<String> aliases, String ip, String mac) {
        try {
            b.network(NetworkMode.parse(network));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--network: " + e.getMessage().replaceFirst("^network: ", "")
                    + " (none, host, bridge, pasta, slirp4netns, container:ID or a network's name)", e);
        }
        List<PortMapping> ports = new ArrayList<>();
        for (String p : publish) {
            try {
                ports.add(PortMapping.parse(p));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("-p: " + e.getMessage(), e);
            }
        }
        if (publishAll) {
            for (String e : exposed) {
                ports.add(exposedPort(e));
            }
        }
        b.ports(ports).networkAliases(aliases).ipAddress(ip).macAddress(mac);
    }

    /** An image's {@code 80/tcp} (or {@code 80}) as an ephemeral host port on every address. */
    static PortMapping exposedPort(String exposed) {
        try {
            String[] p = exposed.split("/", 2);
            return PortMapping.parse(p[0] + (p.length == 2 ? "/" + p[1] : ""));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("-P: the image exposes \"" + exposed + "\": " + e.getMessage(), e);
        }
    }
}
