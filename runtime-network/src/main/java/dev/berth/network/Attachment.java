package dev.berth.network;

import java.util.List;
import java.util.Objects;

/**
 * A container attached to a network: what CNI ADD gave it.
 *
 * @param containerId the container
 * @param network     the network's name
 * @param ifName      its interface in the container ({@code eth0})
 * @param netns       the network namespace it was added to (a path, as CNI takes it)
 * @param addresses   its addresses with their prefix ({@code 10.89.0.2/24}), IPv4 first
 * @param gateways    the gateways of those addresses
 * @param mac         its interface's MAC address, or empty when the plugins reported none
 * @param ports       its published ports, host ports chosen
 */
public record Attachment(String containerId, String network, String ifName, String netns, List<String> addresses,
        List<String> gateways, String mac, List<PortMapping> ports) {

    public Attachment {
        Objects.requireNonNull(containerId, "containerId");
        Objects.requireNonNull(network, "network");
        addresses = List.copyOf(addresses);
        gateways = List.copyOf(gateways);
        ports = List.copyOf(ports);
        mac = mac == null ? "" : mac;
    }
}
