package dev.berth.network;

import java.net.InetAddress;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * A network that exists: stored under the storage root, with the bridge its containers' veths
 * join and the address ranges their addresses come from.
 *
 * @param name     its name
 * @param id       64 hex digits, as docker's network ids
 * @param bridge   the host's bridge interface ({@code berth0}, {@code berth1}, ...)
 * @param ranges   its IPv4 range and, when dual stack, its IPv6 range
 * @param internal no masquerading to the outside
 * @param created  when it was created
 */
public record Network(String name, String id, String bridge, List<Range> ranges, boolean internal, Instant created) {

    public Network {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(bridge, "bridge");
        ranges = List.copyOf(ranges);
        Objects.requireNonNull(created, "created");
    }

    /** One address range: a subnet and its gateway, the bridge's address in it. */
    public record Range(Subnet subnet, InetAddress gateway) {
        public Range {
            Objects.requireNonNull(subnet, "subnet");
            Objects.requireNonNull(gateway, "gateway");
        }
    }

    /** Whether it has an IPv6 range. */
    public boolean dualStack() {
        return ranges.stream().anyMatch(r -> r.subnet().isIpv6());
    }
}
