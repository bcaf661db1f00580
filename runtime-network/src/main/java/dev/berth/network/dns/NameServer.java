package dev.berth.network.dns;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.xbill.DNS.ExtendedResolver;
import org.xbill.DNS.Message;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Resolver;

/**
 * One network's name server, a process of its own that outlives the JVM which started it (so that
 * detached containers keep resolving names): {@code NameServer <dir> <port>} serves
 * {@code <dir>/names.json} ({@link NamesFile}) on UDP and TCP at each of its {@code listen}
 * addresses (the network's gateways), answers only hosts of the network's subnets, answers the
 * network's names from a {@link NameTable} (rotating, so an alias shared by replicas spreads its
 * clients), and forwards other queries to the host's resolvers ({@code /etc/resolv.conf}, loopback
 * ones included: this process runs in the host's network namespace). It re-reads the table when the
 * file's inode or time changes (the writer renames a new file into place), checked at each query,
 * so a change is in the very next answer; it writes {@code <dir>/server.pid} once it listens, and
 * ends by itself when its directory goes (a cleanup that found it unreachable).
 *
 * <p>Messages are parsed and built by dnsjava: no wire format here.
 */
public final class NameServer {
    public static final String FILE = "names.json";
    public static final String PID = "server.pid";
    private static final int UDP_MAX = 65535;

    private final Path dir;
    private final Path file;
    private final Resolver upstream;
    /** Forwards and TCP clients: up to 16 at once (idle threads go after 30 s), 256 waiting, then refused. */
    private final ExecutorService pool = pool();
    private volatile NameTable table;
    private volatile List<String> listen = List.of();
    private volatile Object stamp;

    NameServer(Path dir, Resolver upstream) throws IOException {
        this.dir = dir;
        this.file = dir.resolve(FILE);
        this.upstream = upstream;
        reload();
    }

    private static ExecutorService pool() {
        ThreadPoolExecutor p = new ThreadPoolExecutor(16, 16, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(256), r -> {
            Thread t = new Thread(r, "names-worker");
            t.setDaemon(true);
            return t;
        });
        p.allowCoreThreadTimeOut(true); // a pool that grew only past a full queue would run 2 at a time
        return p;
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: NameServer <dir> <port>");
            System.exit(2);
        }
        Path dir = Path.of(args[0]);
        int port = Integer.parseInt(args[1]);
        ExtendedResolver upstream = new ExtendedResolver(); // the host's resolv.conf servers
        upstream.setTimeout(Duration.ofSeconds(4));
        NameServer s = new NameServer(dir, upstream);
        s.serve(port);
    }

    /** Binds every listen address, writes the pid file, then serves until the directory goes. */
    void serve(int port) throws IOException, InterruptedException {
        List<Thread> threads = new ArrayList<>();
        for (String a : listen) {
            InetSocketAddress at = new InetSocketAddress(InetAddress.getByName(a), port);
            DatagramSocket udp;
            ServerSocket tcp;
            try {
                udp = new DatagramSocket(at);
                tcp = new ServerSocket();
                tcp.setReuseAddress(true);
                tcp.bind(at, 64);
            } catch (IOException e) {
                throw new IOException("bind " + a + ":" + port + ": " + e.getMessage(), e);
            }
            threads.add(thread("names-udp-" + a, () -> udpLoop(udp)));
            threads.add(thread("names-tcp-" + a, () -> tcpLoop(tcp)));
        }
        Path tmp = dir.resolve("." + PID + ".tmp");
        Files.writeString(tmp, ProcessHandle.current().pid() + "\n", StandardCharsets.US_ASCII);
        Files.move(tmp, dir.resolve(PID), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        threads.forEach(Thread::start);
        while (Files.isRegularFile(file)) { // the directory removed: nobody needs this server any more
            Thread.sleep(1000);
        }
        System.exit(0);
    }

    private static Thread thread(String name, Runnable r) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }


    /** Re-reads the file when it changed; a bad one is reported and the last good table kept. */
    private void reload() throws IOException {
        BasicFileAttributes at = Files.readAttributes(file, BasicFileAttributes.class);
        Object s = List.of(Objects.toString(at.fileKey()), at.lastModifiedTime(), at.size());
        if (s.equals(stamp)) {
            return;
        }
        synchronized (this) {
            if (s.equals(stamp)) {
                return;
            }
            NamesFile f = NamesFile.read(file);
            try {
                table = new NameTable(f);
            } catch (IllegalArgumentException e) {
                throw new IOException(file + ": " + e.getMessage(), e);
            }
            listen = f.listen();
            stamp = s;
        }
    }

    private NameTable current() {
        try {
            reload();
        } catch (NoSuchFileException e) {
            // going away: answer from the last table until the watcher ends this process
        } catch (IOException e) {
            System.err.println("names: " + e.getMessage() + " (the last good table stays)");
        }
        return table;
    }

    private void udpLoop(DatagramSocket s) {
        byte[] buf = new byte[UDP_MAX];
        while (true) {
            DatagramPacket p = new DatagramPacket(buf, buf.length);
            try {
                s.receive(p);
            } catch (IOException e) {
                System.err.println("names: receive: " + e.getMessage());
                continue;
            }
            InetAddress from = p.getAddress();
            int fromPort = p.getPort();
            Message q;
            try {
                q = new Message(java.util.Arrays.copyOf(p.getData(), p.getLength()));
            } catch (IOException e) {
                continue; // not a DNS message: no answer
            }
            NameTable t = current();
            if (!t.allowed(from)) {
                continue; // not a host of the network: it gets nothing
            }
            int max = Optional.ofNullable(q.getOPT()).map(OPTRecord::getPayloadSize).filter(x -> x >= 512).orElse(512);
            Optional<Message> local = t.answer(q);
            if (local.isPresent()) {
                send(s, local.get().toWire(max), from, fromPort);
                continue;
            }
            try {
                pool.execute(() -> {
                    Message r = forward(q);
                    if (r != null) {
                        send(s, r.toWire(max), from, fromPort);
                    }
                });
            } catch (RejectedExecutionException e) {
                // overloaded: the client retries
            }
        }
    }

    private static void send(DatagramSocket s, byte[] b, InetAddress to, int port) {
        try {
            s.send(new DatagramPacket(b, b.length, to, port));
        } catch (IOException e) {
            System.err.println("names: send to " + to.getHostAddress() + ": " + e.getMessage());
        }
    }

    /** The upstream's answer with the client's id, or SERVFAIL when no upstream answers. */
    private Message forward(Message q) {
        try {
            Message r = upstream.send(q);
            r.getHeader().setID(q.getHeader().getID());
            return r;
        } catch (IOException | RuntimeException e) {
            Message r = new Message(q.getHeader().getID());
            r.getHeader().setFlag(org.xbill.DNS.Flags.QR);
            r.getHeader().setRcode(org.xbill.DNS.Rcode.SERVFAIL);
            if (q.getQuestion() != null) {
                r.addRecord(q.getQuestion(), org.xbill.DNS.Section.QUESTION);
            }
            return r;
        }
    }

    private void tcpLoop(ServerSocket server) {
        while (true) {
            Socket c;
            try {
                c = server.accept();
            } catch (IOException e) {
                System.err.println("names: accept: " + e.getMessage());
                continue;
            }
            if (!current().allowed(c.getInetAddress())) {
                close(c);
                continue;
            }
            try {
                pool.execute(() -> tcpClient(c));
            } catch (RejectedExecutionException e) {
                close(c);
            }
        }
    }

    /** Length-prefixed messages on one connection (RFC 7766), until the client closes or idles 10 s. */
    private void tcpClient(Socket c) {
        try (c; DataInputStream in = new DataInputStream(c.getInputStream());
                DataOutputStream out = new DataOutputStream(c.getOutputStream())) {
            c.setSoTimeout(10_000);
            while (true) {
                int n;
                try {
                    n = in.readUnsignedShort();
                } catch (java.io.EOFException | java.net.SocketTimeoutException e) {
                    return;
                }
                byte[] b = in.readNBytes(n);
                if (b.length != n) {
                    return;
                }
                Message q = new Message(b);
                Message r = current().answer(q).orElseGet(() -> forward(q));
                byte[] w = r.toWire();
                out.writeShort(w.length);
                out.write(w);
                out.flush();
            }
        } catch (IOException e) {
            // a broken client connection ends it
        }
    }

    private static void close(Socket c) {
        try {
            c.close();
        } catch (IOException e) {
            // nothing to do
        }
    }
}
