package dev.berth.core.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A DNS server for tests, on UDP: answers an A query for one name with one IPv4 address, any other
 * type for that name with no records (NOERROR), and every other name with NXDOMAIN. It records the
 * names asked, in order, so a test can tell that a query went through it.
 */
public final class TinyDnsServer implements AutoCloseable {
    private final DatagramSocket socket;
    private final String name;
    private final byte[] address;
    private final List<String> asked = new CopyOnWriteArrayList<>();
    private final Thread thread;

    /**
     * @param bind    where to listen (port 53 for a resolver that resolv.conf can name)
     * @param name    the one name it knows (case-insensitive, without the final dot)
     * @param address its IPv4 address
     */
    public TinyDnsServer(InetSocketAddress bind, String name, InetAddress address) throws SocketException {
        this.socket = new DatagramSocket(bind);
        this.name = name.toLowerCase(Locale.ROOT);
        this.address = address.getAddress();
        this.thread = new Thread(this::serve, "tiny-dns " + bind);
        thread.setDaemon(true);
        thread.start();
    }

    /** The names asked so far (lower case, no final dot). */
    public List<String> asked() {
        return List.copyOf(asked);
    }

    private void serve() {
        byte[] buf = new byte[1500];
        while (!socket.isClosed()) {
            DatagramPacket p = new DatagramPacket(buf, buf.length);
            try {
                socket.receive(p);
                byte[] reply = answer(buf, p.getLength());
                if (reply != null) {
                    socket.send(new DatagramPacket(reply, reply.length, p.getSocketAddress()));
                }
            } catch (IOException e) {
                // closed, or one bad datagram: the next one is served
            }
        }
    }

    /** The reply to a query, or null for what is no query (too short, a response, a broken name). */
    byte[] answer(byte[] q, int len) {
        if (len < 17 || (q[2] & 0x80) != 0) {
            return null;
        }
        StringBuilder qname = new StringBuilder();
        int i = 12;
        while (i < len && q[i] != 0) {
            int l = q[i] & 0xff;
            if (l > 63 || i + 1 + l >= len) {
                return null;
            }
            qname.append(qname.length() == 0 ? "" : ".").append(new String(q, i + 1, l, StandardCharsets.US_ASCII));
            i += 1 + l;
        }
        int end = i + 5; // the 0 label, QTYPE, QCLASS
        if (end > len) {
            return null;
        }
        String n = qname.toString().toLowerCase(Locale.ROOT);
        asked.add(n);
        boolean known = n.equals(name);
        boolean a = q[i + 1] == 0 && q[i + 2] == 1;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(q, 0, 2);                                         // id
        out.write(0x81 | (q[2] & 0x01));                            // QR, opcode 0, RD as asked
        out.write(known ? 0x80 : 0x83);                             // RA; NOERROR or NXDOMAIN
        out.writeBytes(new byte[] {0, 1, 0, (byte) (known && a ? 1 : 0), 0, 0, 0, 0});
        out.write(q, 12, end - 12);                                 // the question
        if (known && a) {
            out.writeBytes(new byte[] {(byte) 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4});
            out.writeBytes(address);
        }
        return out.toByteArray();
    }

    /**
     * Asks {@code server} for the A record of {@code name}; the reply's response code (0 NOERROR,
     * 3 NXDOMAIN, ...), or -1 when no reply came within {@code timeoutMillis}.
     */
    public static int query(InetSocketAddress server, String name, int timeoutMillis) throws IOException {
        ByteArrayOutputStream q = new ByteArrayOutputStream();
        q.writeBytes(new byte[] {0x42, 0x24, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0});
        for (String label : name.split("\\.")) {
            q.write(label.length());
            q.writeBytes(label.getBytes(StandardCharsets.US_ASCII));
        }
        q.writeBytes(new byte[] {0, 0, 1, 0, 1});
        try (DatagramSocket s = new DatagramSocket()) {
            s.setSoTimeout(timeoutMillis);
            byte[] b = q.toByteArray();
            s.send(new DatagramPacket(b, b.length, server));
            DatagramPacket in = new DatagramPacket(new byte[1500], 1500);
            while (true) {
                s.receive(in);
                if (in.getLength() >= 4 && in.getData()[0] == 0x42 && in.getData()[1] == 0x24) {
                    return in.getData()[3] & 0x0f;
                }
            }
        } catch (java.net.SocketTimeoutException e) {
            return -1;
        }
    }

    @Override
    public void close() throws InterruptedException {
        socket.close();
        thread.join(5000);
    }
}
