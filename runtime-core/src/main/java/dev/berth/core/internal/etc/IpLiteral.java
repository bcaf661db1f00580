package dev.berth.core.internal.etc;

/**
 * IP address literals, parsed by hand: {@code InetAddress.getByName} falls back to a DNS lookup for
 * text that is not a literal, and accepts legacy IPv4 forms ({@code "1.2"}) no resolver does.
 */
public final class IpLiteral {
    private IpLiteral() {}

    /** A dotted-quad IPv4 address or an RFC 4291 IPv6 address (no zone), as glibc's resolver and hosts file take them. */
    public static boolean isValid(String s) {
        return ipv4(s) != null || ipv6(s) != null;
    }

    /** 127.0.0.0/8, ::1 and IPv4-mapped 127.0.0.0/8: a resolver there is unreachable from another network namespace. */
    public static boolean isLoopback(String s) {
        int[] v4 = ipv4(s);
        if (v4 != null) {
            return v4[0] == 127;
        }
        int[] v6 = ipv6(s);
        if (v6 == null) {
            return false;
        }
        for (int i = 0; i < 5; i++) {
            if (v6[i] != 0) {
                return false;
            }
        }
        if (v6[5] == 0 && v6[6] == 0 && v6[7] == 1) {
            return true;                                  // ::1
        }
        return v6[5] == 0xffff && (v6[6] >> 8) == 127;    // ::ffff:127.x.y.z
    }

    /** The four octets, or null. No leading zeros (glibc would read them as octal in some places). */
    static int[] ipv4(String s) {
        if (s == null) {
            return null;
        }
        String[] p = s.split("\\.", -1);
        if (p.length != 4) {
            return null;
        }
        int[] out = new int[4];
        for (int i = 0; i < 4; i++) {
            String o = p[i];
            if (o.isEmpty() || o.length() > 3 || (o.length() > 1 && o.charAt(0) == '0')) {
                return null;
            }
            for (int k = 0; k < o.length(); k++) {
                if (o.charAt(k) < '0' || o.charAt(k) > '9') {
                    return null;
                }
            }
            out[i] = Integer.parseInt(o);
            if (out[i] > 255) {
                return null;
            }
        }
        return out;
    }

    /** The eight 16-bit groups, or null. Accepts "::" once and a trailing dotted quad. */
    static int[] ipv6(String s) {
        if (s == null || s.length() < 2 || s.length() > 45 || s.indexOf(':') < 0) {
            return null;
        }
        int dc = s.indexOf("::");
        if (dc >= 0 && s.indexOf("::", dc + 1) >= 0) {
            return null;
        }
        String head = dc >= 0 ? s.substring(0, dc) : s;
        String tail = dc >= 0 ? s.substring(dc + 2) : "";
        int[] h = groups(head, dc < 0);
        int[] t = dc >= 0 ? groups(tail, true) : new int[0];
        if (h == null || t == null) {
            return null;
        }
        int n = h.length + t.length;
        if (dc < 0 ? n != 8 : n > 7) {
            return null;
        }
        int[] out = new int[8];
        System.arraycopy(h, 0, out, 0, h.length);
        System.arraycopy(t, 0, out, 8 - t.length, t.length);
        return out;
    }

    /** "a:b:c" (maybe ending in a dotted quad when last), empty for "". */
    private static int[] groups(String part, boolean last) {
        if (part.isEmpty()) {
            return new int[0];
        }
        String[] g = part.split(":", -1);
        int[] out = new int[g.length + 1];
        int n = 0;
        for (int i = 0; i < g.length; i++) {
            String x = g[i];
            if (last && i == g.length - 1 && x.indexOf('.') >= 0) {
                int[] v4 = ipv4(x);
                if (v4 == null) {
                    return null;
                }
                out[n++] = v4[0] << 8 | v4[1];
                out[n++] = v4[2] << 8 | v4[3];
                continue;
            }
            if (x.isEmpty() || x.length() > 4) {
                return null;
            }
            int v = 0;
            for (int k = 0; k < x.length(); k++) {
                int d = Character.digit(x.charAt(k), 16);
                if (d < 0) {
                    return null;
                }
                v = v << 4 | d;
            }
            out[n++] = v;
        }
        return java.util.Arrays.copyOf(out, n);
    }
}
