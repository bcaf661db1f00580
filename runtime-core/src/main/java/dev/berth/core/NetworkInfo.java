package dev.berth.core;

import dev.berth.network.PortMapping;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A container's place on its network, as CNI ADD gave it: an immutable value.
 *
 * @param network    the network's name ({@code bridge} or a user network's)
 * @param addresses  its addresses with their prefix ({@code 10.89.0.2/24}), IPv4 first
 * @param gateways   the gateways of those addresses
 * @param macAddress its interface's MAC address, or empty when the plugins reported none
 * @param ports      its published ports, with the host ports chosen for those asked as 0
 * @param aliases    the names it answers to on the network besides its own
 */
public record NetworkInfo(String network, List<String> addresses, List<String> gateways, String macAddress,
        List<PortMapping> ports, List<String> aliases) {

    public NetworkInfo {
        Objects.requireNonNull(network, "network");
        addresses = List.copyOf(addresses);
        gateways = List.copyOf(gateways);
        macAddress = macAddress == null ? "" : macAddress;
        ports = List.copyOf(ports);
        aliases = List.copyOf(aliases);
    }

    /** The first address without its prefix ({@code 10.89.0.2}), the one to reach the container at. */
    public Optional<String> ipAddress() {
        return addresses.stream().findFirst().map(a -> a.replaceFirst("/.*$", ""));
    }
}
