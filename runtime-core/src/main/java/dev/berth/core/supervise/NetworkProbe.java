package dev.berth.core.supervise;

import dev.berth.core.HealthCheck;
import dev.berth.core.HealthResult;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * TCP and HTTP checks, made from the JVM on the health scheduler thread: a socket created inside
 * the container's network namespace ({@link NetnsSockets}), then a non-blocking connect to
 * 127.0.0.1:port; for HTTP a minimal {@code GET} (HTTP/1.1, {@code Host}, {@code Connection:
 * close}) whose status line decides. At most {@value #MAX_RESPONSE} bytes of the response are read.
 */
public final class NetworkProbe implements HealthProbe {
    static final int MAX_RESPONSE = 8192;
    private static final Pattern STATUS_LINE = Pattern.compile("^HTTP/1\\.[01] ([0-9]{3})[^\\r\\n]*\\r?\\n");

    private final HealthScheduler scheduler;
    private final NetnsSockets sockets;
    private final Clock clock;

    public NetworkProbe(HealthScheduler scheduler, NetnsSockets sockets, Clock clock) {
        this.scheduler = scheduler;
        this.sockets = sockets;
        this.clock = clock;
    }

    @Override
    public void run(HealthCheck check, Target target, Consumer<HealthResult> done) {
        Instant start = clock.instant();
        Attempt a = new Attempt(check, start, done);
        try {
            a.channel = sockets.openIn(target.init());
            a.key = scheduler.register(a.channel, SelectionKey.OP_CONNECT, a);
            a.timer = scheduler.schedule(check.timeout(), () -> a.finish(1, "Health check exceeded timeout ("
                    + check.timeout().toMillis() + " ms)"));
            if (a.channel.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), check.port()))) {
                a.connected();
            }
        } catch (IOException e) {
            a.finish(1, "connect to 127.0.0.1:" + check.port() + ": " + e.getMessage());
        }
    }

    /** One check in flight; its methods run on the scheduler thread. */
    private final class Attempt implements HealthScheduler.IoHandler {
        final HealthCheck check;
        final Instant start;
        final Consumer<HealthResult> done;
        SocketChannel channel;
        SelectionKey key;
        HealthScheduler.Cancellable timer;
        ByteBuffer request;
        final ByteArrayOutputStream response = new ByteArrayOutputStream();
        boolean finished;

        Attempt(HealthCheck check, Instant start, Consumer<HealthResult> done) {
            this.check = check;
            this.start = start;
            this.done = done;
        }

        @Override
        public void ready(SelectionKey k) {
            try {
                if (k.isConnectable()) {
                    if (channel.finishConnect()) {
                        connected();
                    }
                    return;
                }
                if (k.isWritable()) {
                    channel.write(request);
                    if (!request.hasRemaining()) {
                        k.interestOps(SelectionKey.OP_READ);
                    }
                    return;
                }
                if (k.isReadable()) {
                    read();
                }
            } catch (IOException e) {
                finish(1, (check.kind() == HealthCheck.Kind.HTTP ? "GET http://127.0.0.1:" + check.port() + check.path()
                        : "connect to 127.0.0.1:" + check.port()) + ": " + e.getMessage());
            }
        }

        void connected() throws IOException {
            if (check.kind() == HealthCheck.Kind.TCP) {
                finish(0, "connected to 127.0.0.1:" + check.port());
                return;
            }
            request = ByteBuffer.wrap(("GET " + check.path() + " HTTP/1.1\r\nHost: localhost:" + check.port()
                    + "\r\nUser-Agent: berth-healthcheck\r\nAccept: */*\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            channel.write(request);
            key.interestOps(request.hasRemaining() ? SelectionKey.OP_WRITE : SelectionKey.OP_READ);
        }

        private void read() throws IOException {
            ByteBuffer buf = ByteBuffer.allocate(2048);
            int n = channel.read(buf);
            if (n > 0) {
                response.write(buf.array(), 0, n);
            }
            String text = response.toString(StandardCharsets.ISO_8859_1);
            Matcher m = STATUS_LINE.matcher(text);
            if (m.find()) {
                int status = Integer.parseInt(m.group(1));
                String line = text.substring(0, m.end()).strip();
                finish(check.expectedStatus().contains(status) ? 0 : 1, line);
            } else if (n < 0 || response.size() >= MAX_RESPONSE || text.indexOf('\n') >= 0) {
                finish(1, "GET http://127.0.0.1:" + check.port() + check.path() + ": no HTTP status line in the response");
            }
        }

        void finish(int exitCode, String output) {
            if (finished) {
                return;
            }
            finished = true;
            if (timer != null) {
                timer.cancel();
            }
            if (key != null) {
                key.cancel();
            }
            if (channel != null) {
                try {
                    channel.close();
                } catch (IOException e) {
                    // nothing to do: it is closed either way
                }
            }
            done.accept(new HealthResult(exitCode, output, start, clock.instant()));
        }

        @Override
        public void abandon() {
            finish(1, "the runtime is closing");
        }
    }
}
