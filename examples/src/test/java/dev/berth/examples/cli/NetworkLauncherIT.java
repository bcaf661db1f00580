package dev.berth.examples.cli;

import static dev.berth.testing.Http.get;
import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.examples.cli.Launcher.Outcome;
import dev.berth.testing.Preconditions;
import dev.berth.testing.RequiresRoot;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@code berth run -p/--network/--network-alias} and {@code berth port}, as a user runs them. */
@RequiresRoot
class NetworkLauncherIT {
    @RegisterExtension
    static final Launcher BERTH = new Launcher();
    @TempDir
    Path tmp;
    Path root;

    @BeforeEach
    void busyboxRoot() throws IOException {
        Preconditions.require(Files.isExecutable(Path.of("/bin/busybox")) && Files.isExecutable(Path.of("/usr/lib/cni/bridge")),
                "requires busybox and Debian's containernetworking-plugins");
        root = tmp.resolve("root");
        for (String d : List.of("bin", "proc", "sys", "dev", "tmp", "etc", "www")) {
            Files.createDirectories(root.resolve(d));
        }
        Files.copy(Path.of("/bin/busybox"), root.resolve("bin/busybox"));
        Files.writeString(root.resolve("www/index.html"), "hello\n");
    }

    private static Outcome berth(String... args) throws IOException, InterruptedException {
        return BERTH.run(args);
    }

    @Test
    void aPublishedPortIsReportedByBerthPortAndAnswersOnLoopback() throws Exception {
        String storage = BERTH.storageRoot().toString();
        assertThat(berth("network", "create", "--root", storage, "clinet").code()).isZero();
        String web = BERTH.name("web");
        Process run = new ProcessBuilder(BERTH.command("run", "--root", storage, "--rootfs", root.toString(), "--name", web,
                "--network", "clinet", "--network-alias", "site", "-p", "127.0.0.1::80",
                "/bin/busybox", "httpd", "-f", "-p", "80", "-h", "/www"))
                .redirectOutput(tmp.resolve("run.out").toFile()).redirectError(tmp.resolve("run.err").toFile()).start();
        try {
            Outcome port = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (System.nanoTime() < deadline) {
                port = berth("port", "--root", storage, web, "80");
                if (port.code() == 0) {
                    break;
                }
                Thread.sleep(200);
            }
            assertThat(port.code()).as(port.err() + Files.readString(tmp.resolve("run.err"))).isZero();
            assertThat(port.out()).matches("127\\.0\\.0\\.1:\\d+\n");
            String hostPort = port.out().trim();
            assertThat(get("http://" + hostPort + "/")).isEqualTo("hello\n");
            assertThat(berth("port", "--root", storage, web).out()).isEqualTo("80/tcp -> " + hostPort + "\n");
            Outcome none = berth("port", "--root", storage, web, "81");
            assertThat(none.code()).isEqualTo(125);
            assertThat(none.err()).isEqualTo("berth: container " + web + " publishes no port 81 (see 'berth port " + web + "')\n");
        } finally {
            run.destroy(); // SIGTERM, forwarded to the container: it ends, and berth run closes it
            assertThat(run.waitFor(60, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(berth("network", "rm", "--root", storage, "clinet").code()).as("nothing attached any more").isZero();
        Outcome gone = berth("port", "--root", storage, web);
        assertThat(gone.code()).isEqualTo(125);
        assertThat(gone.err()).startsWith("berth: no such container: " + web);
    }

    @Test
    void aHostPortInUseFailsTheRunWithOneLine() throws Exception {
        String storage = BERTH.storageRoot().toString();
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            Outcome o = berth("run", "--root", storage, "--rootfs", root.toString(), "-p",
                    "127.0.0.1:" + taken.getLocalPort() + ":80", "/bin/busybox", "true");
            assertThat(o.code()).isEqualTo(125);
            assertThat(o.err()).isEqualTo("berth: bind 127.0.0.1:" + taken.getLocalPort() + ": Address already in use\n");
        }
        Outcome bad = berth("run", "--root", storage, "--rootfs", root.toString(), "--network", "nosuch", "/bin/busybox", "true");
        assertThat(bad.code()).isEqualTo(125);
        assertThat(bad.err()).startsWith("berth: network: no such network: nosuch");
    }

}
