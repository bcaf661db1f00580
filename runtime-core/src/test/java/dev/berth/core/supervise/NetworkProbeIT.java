package dev.berth.core.supervise;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.ExecProcess;
import dev.berth.core.ExecSpec;
import dev.berth.core.HealthCheck;
import dev.berth.core.HealthResult;
import dev.berth.core.internal.linux.LinuxSyscalls;
import dev.berth.core.internal.state.ProcessId;
import dev.berth.testing.RequiresRoot;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The TCP/HTTP probe against hostile servers: it enters this JVM's own network namespace (setns
 * needs CAP_SYS_ADMIN, hence root) and talks to a server the test runs on the loopback.
 */
@RequiresRoot
class NetworkProbeIT {
    static LinuxSyscalls sys;
    static NetnsSockets sockets;
    static HealthScheduler scheduler;
    static NetworkProbe probe;

    @BeforeAll
    static void open() {
        sys = new LinuxSyscalls();
        sockets = new NetnsSockets(sys);
        scheduler = new HealthScheduler("test-probe", sockets::enterHome);
        probe = new NetworkProbe(scheduler, sockets, Clock.systemUTC());
    }

    @AfterAll
    static void close() {
        scheduler.close();
        sockets.close();
    }

    private static final HealthProbe.Target SELF = new HealthProbe.Target() {
        @Override
        public String id() {
            return "self";
        }

        @Override
        public ProcessId init() {
            return ProcessId.of(ProcessHandle.current().pid());
        }

        @Override
        public ExecProcess exec(ExecSpec spec) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Path outputFile() {
            return Path.of("/nonexistent");
        }
    };

    /** A server that answers one connection with {@code response} (null: accepts and says nothing). */
    private static ServerSocket server(Consumer<Socket> response) throws Exception {
        ServerSocket ss = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
        Thread t = new Thread(() -> {
            try (Socket s = ss.accept()) {
                response.accept(s);
            } catch (Exception e) {
                // the probe hung up: fine
            }
        });
        t.setDaemon(true);
        t.start();
        return ss;
    }

    private static Consumer<Socket> answer(byte[] bytes) {
        return s -> {
            try {
                InputStream in = s.getInputStream();
                in.read(new byte[4096]);
                OutputStream out = s.getOutputStream();
                out.write(bytes);
                out.flush();
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        };
    }

    private static HealthResult check(HealthCheck c) throws Exception {
        CompletableFuture<HealthResult> r = new CompletableFuture<>();
        scheduler.execute(() -> probe.run(c, SELF, r::complete));
        return r.get(20, TimeUnit.SECONDS);
    }

    private static HealthCheck http(ServerSocket ss) {
        return HealthCheck.builder().http(ss.getLocalPort(), "/h").timeout(Duration.ofSeconds(2)).build();
    }

    @Test
    void aStatusLineSplitAcrossReadsIsRead() throws Exception {
        try (ServerSocket ss = server(s -> {
            try {
                s.getInputStream().read(new byte[4096]);
                OutputStream out = s.getOutputStream();
                out.write("HTTP/1.1 2".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                Thread.sleep(100);
                out.write("04 No Content\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        })) {
            HealthResult r = check(http(ss));
            assertThat(r.exitCode()).isZero();
            assertThat(r.output()).isEqualTo("HTTP/1.1 204 No Content");
        }
    }

    @Test
    void theRequestIsAMinimalGetWithHostAndConnectionClose() throws Exception {
        CompletableFuture<String> request = new CompletableFuture<>();
        try (ServerSocket ss = server(s -> {
            try {
                byte[] b = new byte[4096];
                int n = s.getInputStream().read(b);
                request.complete(new String(b, 0, n, StandardCharsets.US_ASCII));
                s.getOutputStream().write("HTTP/1.0 302 Found\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        })) {
            assertThat(check(http(ss)).exitCode()).isZero();
            assertThat(request.get()).startsWith("GET /h HTTP/1.1\r\n").contains("\r\nHost: localhost:" + ss.getLocalPort()
                    + "\r\n").contains("\r\nConnection: close\r\n").endsWith("\r\n\r\n");
        }
    }

    @Test
    void hostileOrFailingServersAreUnhealthyAndNeverHangTheProbe() throws Exception {
        try (ServerSocket ss = server(answer("HTTP/1.1 500 Oops\r\n\r\n".getBytes(StandardCharsets.US_ASCII)))) {
            HealthResult r = check(http(ss));
            assertThat(r.exitCode()).isEqualTo(1);
            assertThat(r.output()).contains("500");
        }
        try (ServerSocket ss = server(answer("SSH-2.0-OpenSSH\r\n".getBytes(StandardCharsets.US_ASCII)))) {
            assertThat(check(http(ss)).output()).contains("no HTTP status line");
        }
        byte[] flood = new byte[1 << 20]; // a megabyte without a line end: read at most 8 KiB of it
        java.util.Arrays.fill(flood, (byte) 'A');
        try (ServerSocket ss = server(answer(flood))) {
            HealthResult r = check(http(ss));
            assertThat(r.exitCode()).isEqualTo(1);
            assertThat(r.output().length()).isLessThanOrEqualTo(HealthResult.MAX_OUTPUT);
        }
        try (ServerSocket ss = server(s -> {
            try {
                Thread.sleep(10_000); // accepts, says nothing
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        })) {
            HealthResult r = check(HealthCheck.builder().http(ss.getLocalPort(), "/").timeout(Duration.ofMillis(300))
                    .build());
            assertThat(r.output()).contains("exceeded timeout");
        }
        int closed;
        try (ServerSocket ss = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = ss.getLocalPort();
        }
        HealthResult refused = check(HealthCheck.builder().tcp(closed).timeout(Duration.ofSeconds(2)).build());
        assertThat(refused.exitCode()).isEqualTo(1);
        assertThat(refused.output()).contains("127.0.0.1:" + closed);
    }

    @Test
    void tcpIsHealthyWhenTheConnectionIsAcceptedAndNoFdIsLeft() throws Exception {
        long before;
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            before = s.count();
        }
        for (int i = 0; i < 50; i++) {
            try (ServerSocket ss = server(s -> { })) {
                assertThat(check(HealthCheck.builder().tcp(ss.getLocalPort()).build()).exitCode()).isZero();
            }
        }
        long after;
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            after = s.count();
        }
        assertThat(after).isLessThanOrEqualTo(before + 2); // the listing's own, and nothing per check
    }

    @Test
    void aGoneProcessIsNeverEntered() throws Exception {
        HealthProbe.Target gone = new HealthProbe.Target() {
            @Override
            public String id() {
                return "gone";
            }

            @Override
            public ProcessId init() {
                return new ProcessId(ProcessHandle.current().pid(), 12345); // the pid is alive, the process is another
            }

            @Override
            public ExecProcess exec(ExecSpec spec) {
                throw new UnsupportedOperationException();
            }

            @Override
            public Path outputFile() {
                return Path.of("/nonexistent");
            }
        };
        CompletableFuture<HealthResult> r = new CompletableFuture<>();
        scheduler.execute(() -> probe.run(HealthCheck.builder().tcp(1).build(), gone, r::complete));
        assertThat(r.get(10, TimeUnit.SECONDS).output()).contains("is gone");
    }
}
