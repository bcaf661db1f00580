package dev.berth.network.dns;

import dev.berth.network.Subnet;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Opcode;
import org.xbill.DNS.PTRRecord;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.ReverseMap;
import org.xbill.DNS.Section;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

/**
 * A network's names, answered from a {@link NamesFile}: a name with the addresses of every entry
 * that serves and lists it, rotated by one at each query of that name and type (docker's embedded
 * DNS round-robin: a client that takes the first address reaches each replica in turn); an address
 * of the network's back to its container's first name (PTR). A name no entry lists is not ours:
 * {@link #answer} returns empty and the server forwards the query; a name only non-serving entries
 * list gets NXDOMAIN (it is the network's, and never leaves the host). Thread-safe.
 */
public final class NameTable {
    /** Seconds a client may keep an answer: none, so a replica that stops or turns unhealthy drops out at once. */
    static final long TTL = 0;

    private final List<Subnet> subnets;
    private final Map<String, List<InetAddress>> byName = new HashMap<>();
    private final Map<Name, Name> reverse = new HashMap<>();
    private final java.util.Set<String> known = new java.util.HashSet<>();
    private final ConcurrentHashMap<String, AtomicLong> turns = new ConcurrentHashMap<>();

    /**
     * @throws IllegalArgumentException naming the entry and field of an address or name that is not one
     */
    public NameTable(NamesFile file) {
        List<Subnet> s = new ArrayList<>();
        for (int i = 0; i < file.subnets().size(); i++) {
            s.add(Subnet.parse(file.subnets().get(i)));
        }
        this.subnets = List.copyOf(s);
        Map<String, List<InetAddress>> names = new LinkedHashMap<>();
        for (int i = 0; i < file.entries().size(); i++) {
            NamesFile.Entry e = file.entries().get(i);
            String at = "entries[" + i + "]";
            List<InetAddress> addrs = new ArrayList<>();
            for (int j = 0; j < e.addresses().size(); j++) {
                addrs.add(Subnet.address(e.addresses().get(j), at + ".addresses[" + j + "]"));
            }
            for (int j = 0; j < e.names().size(); j++) {
                String n = normal(e.names().get(j));
                try {
                    Name.fromString(n, Name.root);
                } catch (TextParseException x) {
                    throw new IllegalArgumentException(at + ".names[" + j + "]: \"" + e.names().get(j)
                            + "\" is not a DNS name: " + x.getMessage(), x);
                }
                known.add(n);
                if (e.serving()) {
                    names.computeIfAbsent(n, k -> new ArrayList<>()).addAll(addrs);
                }
            }
            if (e.serving() && !e.names().isEmpty()) {
                for (InetAddress a : addrs) {
                    try {
                        reverse.putIfAbsent(ReverseMap.fromAddress(a), Name.fromString(normal(e.names().get(0)), Name.root));
                    } catch (TextParseException x) {
                        throw new IllegalStateException(x); // checked above
                    }
                }
            }
        }
        names.forEach((k, v) -> byName.put(k, List.copyOf(v)));
    }

    private static String normal(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return n.endsWith(".") ? n.substring(0, n.length() - 1) : n;
    }

    /** Whether a client at {@code source} may ask: a host of one of the network's subnets. */
    public boolean allowed(InetAddress source) {
        return subnets.stream().anyMatch(s -> s.contains(source));
    }

    /**
     * The serving addresses of {@code name} of one family ({@link Type#A} or {@link Type#AAAA}), the
     * next rotation of them: each call moves the first one to the end. Empty for a name not ours.
     */
    public Optional<List<InetAddress>> lookup(String name, int type) {
        String n = normal(name);
        if (!known.contains(n)) {
            return Optional.empty();
        }
        List<InetAddress> all = byName.getOrDefault(n, List.of()).stream()
                .filter(a -> type == Type.A ? a instanceof Inet4Address : a instanceof Inet6Address).toList();
        if (all.size() < 2) {
            return Optional.of(all);
        }
        long turn = turns.computeIfAbsent(n + "/" + type, k -> new AtomicLong()).getAndIncrement();
        int k = (int) (turn % all.size());
        List<InetAddress> out = new ArrayList<>(all.subList(k, all.size()));
        out.addAll(all.subList(0, k));
        return Optional.of(out);
    }

    /**
     * The answer to a query, when the network's names have it; empty for a query to forward. A
     * query that is not a standard one-question query gets NOTIMP or FORMERR.
     */
    public Optional<Message> answer(Message query) {
        Message r = new Message(query.getHeader().getID());
        r.getHeader().setFlag(Flags.QR);
        if (query.getHeader().getFlag(Flags.RD)) {
            r.getHeader().setFlag(Flags.RD);
        }
        r.getHeader().setFlag(Flags.RA);
        Record q = query.getQuestion();
        if (query.getHeader().getOpcode() != Opcode.QUERY) {
            r.getHeader().setRcode(Rcode.NOTIMP);
            return Optional.of(r);
        }
        if (q == null || query.getSectionArray(Section.QUESTION).length != 1) {
            r.getHeader().setRcode(Rcode.FORMERR);
            return Optional.of(r);
        }
        r.addRecord(q, Section.QUESTION);
        Name name = q.getName();
        int type = q.getType();
        if (type == Type.PTR) {
            Name target = reverse.get(name.canonicalize());
            if (target == null) {
                return Optional.empty();
            }
            r.getHeader().setFlag(Flags.AA);
            r.addRecord(new PTRRecord(name, DClass.IN, TTL, target), Section.ANSWER);
            return Optional.of(r);
        }
        String text = name.toString(true);
        if (!known.contains(normal(text))) {
            return Optional.empty();
        }
        r.getHeader().setFlag(Flags.AA);
        boolean any = !byName.getOrDefault(normal(text), List.of()).isEmpty();
        if (!any) {
            r.getHeader().setRcode(Rcode.NXDOMAIN); // no container serves it now
            return Optional.of(r);
        }
        if (type == Type.A || type == Type.AAAA || type == Type.ANY) {
            for (int t : type == Type.ANY ? new int[] {Type.A, Type.AAAA} : new int[] {type}) {
                for (InetAddress a : lookup(text, t).orElseThrow()) {
                    r.addRecord(t == Type.A ? new ARecord(name, DClass.IN, TTL, a) : new AAAARecord(name, DClass.IN, TTL, a),
                            Section.ANSWER);
                }
            }
        }
        return Optional.of(r); // other types, or a family it has none of: NOERROR, no data
    }
}
