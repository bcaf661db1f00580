package dev.berth.network;

import java.net.InetAddress;
import java.util.Locale;
import java.util.Objects;

/**
 * A published port, docker's {@code -p [hostIP:][hostPort:]containerPort[/tcp|/udp]}: the host's
 * {@code hostIp:hostPort} forwards to the container's {@code containerPort}.
 *
 * @param hostIp        the host address it listens on; the any-address {@code 0.0.0.0} for all
 * @param hostPort      the host port; 0 until one is chosen, for "any free port"
 * @param containerPort the container's port
 * @param protocol      {@code tcp} or {@code udp}
 */
public record PortMapping(InetAddress hostIp, int hostPort, int containerPort, String protocol) {

    public PortMapping {
        Objects.requireNonNull(hostIp, "hostIp");
        if (hostPort < 0 || hostPort > 65535) {
            throw new IllegalArgumentException("hostPort: " + hostPort + " is not a port (0-65535, 0: any free one)");
        }
        if (containerPort < 1 || containerPort > 65535) {
            throw new IllegalArgumentException("containerPort: " + containerPort + " is not a port (1-65535)");
        }
        protocol = Objects.requireNonNull(protocol, "protocol").toLowerCase(Locale.ROOT);
        if (!protocol.equals("tcp") && !protocol.equals("udp")) {
            throw new IllegalArgumentException("protocol: \"" + protocol + "\" is neither tcp nor udp");
        }
    }

    /**
     * Parses docker's spelling: {@code 80}, {@code 8080:80}, {@code 127.0.0.1:8080:80},
     * {@code 127.0.0.1::80}, {@code [::1]:8080:80}, each with an optional {@code /tcp} or {@code /udp}.
     *
     * @throws IllegalArgumentException naming the text
     */
    public static PortMapping parse(String text) {
        try {
            String spec = text;
            String protocol = "tcp";
            int slash = spec.lastIndexOf('/');
            if (slash >= 0) {
                protocol = spec.substring(slash + 1);
                spec = spec.substring(0, slash);
            }
            String hostIp = "0.0.0.0";
            if (spec.startsWith("[")) {
                int close = spec.indexOf("]:");
                if (close < 0) {
                    throw new IllegalArgumentException("an IPv6 host address in brackets must be followed by ':'");
                }
                hostIp = spec.substring(1, close);
                spec = spec.substring(close + 2);
            } else if (spec.chars().filter(c -> c == ':').count() == 2) {
                int first = spec.indexOf(':');
                hostIp = spec.substring(0, first);
                spec = spec.substring(first + 1);
            }
            String[] parts = spec.split(":", -1);
            if (parts.length > 2) {
                throw new IllegalArgumentException("too many ':'");
            }
            int hostPort = parts.length == 2 ? port(parts[0], true) : 0;
            int containerPort = port(parts[parts.length - 1], false);
            return new PortMapping(Subnet.address(hostIp, text), hostPort, containerPort, protocol);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("\"" + text + "\" is not [hostIP:][hostPort:]containerPort[/tcp|/udp]: "
                    + e.getMessage(), e);
        }
    }

    private static int port(String s, boolean emptyIsAny) {
        if (s.isEmpty() && emptyIsAny) {
            return 0;
        }
        if (!s.matches("\\d{1,5}")) {
            throw new IllegalArgumentException("\"" + s + "\" is not a port");
        }
        return Integer.parseInt(s);
    }

    /** This mapping with the host port chosen. */
    public PortMapping withHostPort(int port) {
        return new PortMapping(hostIp, port, containerPort, protocol);
    }

    @Override
    public String toString() {
        String ip = Subnet.format(hostIp);
        return (hostIp.getAddress().length == 16 ? "[" + ip + "]" : ip) + ":" + hostPort + "->" + containerPort + "/" + protocol;
    }
}
