package dev.berth.network;

import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Objects;

/**
 * An IPv4 or IPv6 prefix in CIDR notation ({@code 10.89.0.0/24}, {@code fd00:89::/64}), normalised
 * so that the host bits are zero. Parsing takes numeric addresses only: no name is ever looked up.
 *
 * @param address the network address (host bits zero)
 * @param prefix  the prefix length
 */
public record Subnet(InetAddress address, int prefix) {

    public Subnet {
        Objects.requireNonNull(address, "address");
        int bits = address.getAddress().length * 8;
        if (prefix < 0 || prefix > bits) {
            throw new IllegalArgumentException("prefix length " + prefix + " is out of range 0-" + bits);
        }
        address = mask(address, prefix);
    }

    /**
     * Parses {@code a.b.c.d/n} or {@code x:y::z/n}; an address with host bits set is refused, as
     * docker refuses it, rather than silently moved to its network.
     *
     * @throws IllegalArgumentException naming the text when it is no CIDR prefix
     */
    public static Subnet parse(String cidr) {
        int slash = cidr == null ? -1 : cidr.indexOf('/');
        if (slash <= 0 || slash == cidr.length() - 1) {
            throw new IllegalArgumentException("\"" + cidr + "\" is not a subnet in CIDR notation (e.g. 10.89.0.0/24)");
        }
        InetAddress a = address(cidr.substring(0, slash), cidr);
        int prefix;
        try {
            prefix = Integer.parseInt(cidr.substring(slash + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("\"" + cidr + "\": the prefix length is not a number");
        }
        Subnet s;
        try {
            s = new Subnet(a, prefix);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("\"" + cidr + "\": " + e.getMessage());
        }
        if (!s.address.equals(a)) {
            throw new IllegalArgumentException("\"" + cidr + "\" has host bits set; its network is " + s);
        }
        return s;
    }

    /**
     * A numeric IPv4 or IPv6 address; never a name (InetAddress.getByName would resolve one).
     *
     * @param context what to name in the error
     */
    public static InetAddress address(String text, String context) {
        boolean v4 = text.matches("\\d{1,3}(\\.\\d{1,3}){3}");
        boolean v6 = text.contains(":") && text.matches("[0-9A-Fa-f:.]+");
        if (v4) {
            for (String part : text.split("\\.")) {
                if (Integer.parseInt(part) > 255) {
                    v4 = false;
                }
            }
        }
        if (!v4 && !v6) {
            throw new IllegalArgumentException("\"" + context + "\": \"" + text + "\" is not an IPv4 or IPv6 address");
        }
        try {
            return InetAddress.getByName(text); // numeric: parsed, not looked up
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("\"" + context + "\": \"" + text + "\" is not an IPv4 or IPv6 address");
        }
    }

    /** Whether this is an IPv6 prefix. */
    public boolean isIpv6() {
        return address.getAddress().length == 16;
    }

    /** Whether {@code a} lies in this prefix. */
    public boolean contains(InetAddress a) {
        return a.getAddress().length == address.getAddress().length && mask(a, prefix).equals(address);
    }

    /** Whether the two prefixes share an address (one contains the other's network). */
    public boolean overlaps(Subnet other) {
        return isIpv6() == other.isIpv6() && (contains(other.address) || other.contains(address));
    }

    /** The {@code n}-th address of the prefix (1: the first host, the usual gateway). */
    public InetAddress host(long n) {
        byte[] b = address.getAddress();
        BigInteger size = BigInteger.ONE.shiftLeft(b.length * 8 - prefix);
        if (n < 0 || BigInteger.valueOf(n).compareTo(size) >= 0) {
            throw new IllegalArgumentException(this + " has no address number " + n);
        }
        BigInteger v = new BigInteger(1, b).add(BigInteger.valueOf(n));
        return fromNumber(v, b.length);
    }

    /** The prefix of the same length right after this one ({@code 10.89.0.0/24} → {@code 10.89.1.0/24}). */
    public Subnet next() {
        byte[] b = address.getAddress();
        BigInteger v = new BigInteger(1, b).add(BigInteger.ONE.shiftLeft(b.length * 8 - prefix));
        if (v.bitLength() > b.length * 8) {
            throw new IllegalArgumentException("no prefix after " + this);
        }
        return new Subnet(fromNumber(v, b.length), prefix);
    }

    @Override
    public String toString() {
        return format(address) + "/" + prefix;
    }

    /**
     * An address as text: IPv4 dotted, IPv6 in its canonical short form (RFC 5952: lower case, no
     * leading zeros, the longest run of two or more zero groups as "::"), as docker and ip print it.
     */
    public static String format(InetAddress a) {
        byte[] b = a.getAddress();
        if (b.length == 4) {
            return a.getHostAddress();
        }
        int[] g = new int[8];
        for (int i = 0; i < 8; i++) {
            g[i] = ((b[2 * i] & 0xff) << 8) | (b[2 * i + 1] & 0xff);
        }
        int bestStart = -1;
        int bestLen = 1;
        for (int i = 0; i < 8; i++) {
            int j = i;
            while (j < 8 && g[j] == 0) {
                j++;
            }
            if (j - i > bestLen) {
                bestStart = i;
                bestLen = j - i;
            }
            i = Math.max(i, j);
        }
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                out.append("::");
                i += bestLen - 1;
                continue;
            }
            if (out.length() > 0 && out.charAt(out.length() - 1) != ':') {
                out.append(':');
            }
            out.append(Integer.toHexString(g[i]));
        }
        return out.toString();
    }

    private static InetAddress mask(InetAddress a, int prefix) {
        byte[] b = a.getAddress();
        for (int i = 0; i < b.length; i++) {
            int keep = Math.max(0, Math.min(8, prefix - i * 8));
            b[i] &= (byte) (0xff << (8 - keep));
        }
        try {
            return InetAddress.getByAddress(b);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e); // the length is 4 or 16
        }
    }

    private static InetAddress fromNumber(BigInteger v, int length) {
        byte[] raw = v.toByteArray();
        byte[] b = new byte[length];
        int n = Math.min(raw.length, length);
        System.arraycopy(raw, raw.length - n, b, length - n, n);
        try {
            return InetAddress.getByAddress(b);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}
