package dev.berth.network.internal;

import dev.berth.network.Subnet;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The host's routes (from {@code /proc/net/route} and {@code /proc/net/ipv6_route}): a network's
 * subnet must not cover a range the host already reaches another way, or the host would lose it.
 */
public final class HostRoutes {
    private HostRoutes() {}

    /** A destination prefix and the interface it goes through. */
    public record Route(Subnet destination, String iface) {}

    /** The host's routes, without default routes, link-local, multicast and single-address ones. */
    public static List<Route> read(Path procNet) throws IOException {
        List<Route> out = new ArrayList<>();
        Path v4 = procNet.resolve("route");
        if (Files.exists(v4)) {
            out.addAll(parseIpv4(Files.readAllLines(v4)));
        }
        Path v6 = procNet.resolve("ipv6_route");
        if (Files.exists(v6)) {
            out.addAll(parseIpv6(Files.readAllLines(v6)));
        }
        return out;
    }

    /** {@code Iface Destination Gateway Flags RefCnt Use Metric Mask ...}, addresses in host byte order (little-endian). */
    static List<Route> parseIpv4(List<String> lines) {
        List<Route> out = new ArrayList<>();
        for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
            String[] f = line.trim().split("\\s+");
            if (f.length < 8) {
                continue;
            }
            long mask = Long.parseLong(f[7], 16);
            int prefix = Long.bitCount(mask);
            if (prefix == 0 || prefix == 32) {
                continue;
            }
            out.add(new Route(new Subnet(ipv4LittleEndian(f[1]), prefix), f[0]));
        }
        return out;
    }

    /** {@code dest prefixlen src srclen nexthop metric refcnt use flags iface}, hex. */
    static List<Route> parseIpv6(List<String> lines) {
        List<Route> out = new ArrayList<>();
        for (String line : lines) {
            String[] f = line.trim().split("\\s+");
            if (f.length < 10 || f[0].length() != 32) {
                continue;
            }
            int prefix = Integer.parseInt(f[1], 16);
            byte[] b = new byte[16];
            for (int i = 0; i < 16; i++) {
                b[i] = (byte) Integer.parseInt(f[0].substring(2 * i, 2 * i + 2), 16);
            }
            boolean linkLocal = (b[0] & 0xff) == 0xfe && (b[1] & 0xc0) == 0x80;
            boolean multicast = (b[0] & 0xff) == 0xff;
            if (prefix == 0 || prefix == 128 || linkLocal || multicast) {
                continue;
            }
            try {
                out.add(new Route(new Subnet(InetAddress.getByAddress(b), prefix), f[9]));
            } catch (UnknownHostException e) {
                throw new IllegalStateException(e); // 16 bytes
            }
        }
        return out;
    }

    private static InetAddress ipv4LittleEndian(String hex) {
        long v = Long.parseLong(hex, 16);
        byte[] b = {(byte) v, (byte) (v >>> 8), (byte) (v >>> 16), (byte) (v >>> 24)};
        try {
            return InetAddress.getByAddress(b);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e); // 4 bytes
        }
    }
}
