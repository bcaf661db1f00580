package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.testing.NetRootfs;
import dev.berth.testing.Http;
import dev.berth.testing.LoopbackHttpServer;
import dev.berth.testing.Preconditions;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Networking of Berth run by an ordinary user (.ci/rootless-suite.sh; never as root): the default
 * network is pasta, a server in the container is reached on 127.0.0.1 through a published port and
 * the container reaches a host loopback server through its gateway address (pasta and
 * slirp4netns, each running as the user and gone after close), names resolve through the tool's
 * DNS forwarder when the host's resolver is on loopback, and a CNI bridge network is a one-line
 * rootless error that leaves nothing.
 */
class NetworkRootlessIT {
    @TempDir
    static Path shared;
    static Path rootfs;
    static long uid;
    @TempDir
    Path tmp;
    private final String run = "rn" + Long.toHexString(System.nanoTime() & 0xffffff);

    @BeforeAll
    static void rootfs() throws Exception {
        uid = Preconditions.requireUnprivileged();
        assertThat(NetRootfs.available()).as("busybox, wget, getent").isTrue();
        rootfs = NetRootfs.build(shared.resolve("net-root"));
    }

    private ContainerRuntime runtime() {
        return ContainerRuntime.builder().stateRoot(tmp.resolve("state")).storageRoot(tmp.resolve("storage")).build();
    }

    private static ContainerSpec.Builder httpd(NetworkMode network) {
        return ContainerSpec.builder().rootfs(rootfs).network(network)
                .command("/bin/busybox", "httpd", "-f", "-p", "80", "-h", "/www")
                .stdout(Stdio.discard()).stderr(Stdio.discard());
    }

    @Test
    void theDefaultNetworkIsPastaAndAPublishedPortOnLoopbackReachesTheServerInside() throws Exception {
        NetworkMode dflt = ContainerRuntime.defaultNetworkMode();
        assertThat(dflt).isEqualTo(NetworkMode.pasta());
        published(dflt);
    }

    @Test
    void slirp4netnsPublishesToo() throws Exception {
        published(NetworkMode.slirp4netns());
    }

    private void published(NetworkMode mode) throws Exception {
        try (ContainerRuntime rt = runtime()) {
            Container c = rt.start(run + "-" + mode, httpd(mode).publish("127.0.0.1::80").build());
            int port = c.ports().get(0).hostPort();
            assertThat(Http.get("http://127.0.0.1:" + port + "/")).isEqualTo("hello\n");
            List<ProcessHandle> tools = tools(tmp.resolve("state").resolve(c.id()));
            assertThat(tools).as(mode + " of the container").hasSize(1);
            assertThat(java.nio.file.Files.getAttribute(Path.of("/proc", Long.toString(tools.get(0).pid())), "unix:uid"))
                    .as("its user").isEqualTo((int) uid);
            c.close();
            long pid = tools.get(0).pid();
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
            while (running(pid) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(running(pid)).as(mode + " " + pid + " after close").isFalse();
            UserModeNetworkTests.assertRefused(port);
        }
    }

    @Test
    void theContainerReachesAServerOnTheHostsLoopbackThroughItsGateway() throws Exception {
        try (LoopbackHttpServer server = LoopbackHttpServer.serving("from the host\n");
                ContainerRuntime rt = runtime();
                Container c = rt.start(run + "-out", ContainerSpec.builder().rootfs(rootfs)
                        .network(ContainerRuntime.defaultNetworkMode())
                        .command("/bin/sh", "-c", "gw=$(busybox ip route | busybox awk '/^default/ {print $3}');"
                                + " busybox wget -q -O - http://$gw:" + server.port() + "/")
                        .stdout(Stdio.pipe()).build())) {
            String out = new String(c.stdout().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(c.waitFor()).isEqualTo(ExitStatus.exited(0));
            assertThat(out).isEqualTo("from the host\n");
        }
    }

    /**
     * A host whose resolver is on loopback, as an ordinary user: the runtime is given a host-like
     * resolv.conf naming 127.0.0.53 (with a search domain) while the tool relays to the name server
     * of the real /etc/resolv.conf, which it reads itself (an unprivileged user cannot serve port 53
     * on the host's loopback; the root ITs do, in UserModeNetworkTests). The container's resolv.conf
     * names the forwarder and keeps the search line; a query sent to it is answered by the host's
     * resolver (any answer: NXDOMAIN for a name under .invalid), while the loopback address it
     * replaced answers nothing inside.
     */
    @ParameterizedTest
    @ValueSource(strings = {"pasta", "slirp4netns"})
    void aLoopbackResolverIsReachedThroughTheToolsForwarder(String tool) throws Exception {
        java.net.InetSocketAddress hostResolver = hostResolver();
        String name = "berth-" + run + ".invalid";
        assertThat(dev.berth.core.testing.TinyDnsServer.query(hostResolver, name, 3000))
                .as("the host's resolver %s must answer for this test", hostResolver).isNotNegative();
        Path resolv = tmp.resolve("host-resolv.conf");
        java.nio.file.Files.writeString(resolv, "nameserver 127.0.0.53\nsearch berth.test\n");
        String forwarder = tool.equals("pasta") ? "169.254.1.1" : "10.0.2.3";
        try (ContainerRuntime rt = ContainerRuntime.builder().stateRoot(tmp.resolve("state"))
                .storageRoot(tmp.resolve("storage")).hostResolvConf(resolv).build();
                Container c = rt.start(run + "-dns-" + tool, ContainerSpec.builder().rootfs(rootfs)
                        .network(NetworkMode.parse(tool))
                        .command("/bin/sh", "-c", "cat /etc/resolv.conf; echo '--- relay';"
                                + " busybox nslookup -type=A -timeout=3 -retry=1 \"$0\";"
                                + " echo '--- loopback'; busybox nslookup -type=A -timeout=2 -retry=1 \"$0\" 127.0.0.53;"
                                + " true", name)
                        .stdout(Stdio.pipe()).stderr(Stdio.pipe()).build())) {
            String out = new String(c.stdout().readAllBytes(), StandardCharsets.UTF_8)
                    + new String(c.stderr().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(c.waitFor()).isEqualTo(ExitStatus.exited(0));
            String conf = out.substring(0, out.indexOf("--- relay"));
            String relay = out.substring(out.indexOf("--- relay"), out.indexOf("--- loopback"));
            String loopback = out.substring(out.indexOf("--- loopback"));
            assertThat(conf.lines()).as(out).contains("nameserver " + forwarder, "search berth.test")
                    .noneMatch(l -> l.contains("127.0.0.53"));
            assertThat(relay).as(out).contains(forwarder).contains("can't find " + name)
                    .doesNotContain("no servers could be reached");
            assertThat(loopback).as(out).contains("no servers could be reached").doesNotContain("can't find");
        }
    }

    /** The first IPv4 name server of the host's /etc/resolv.conf: the one the tools relay to. */
    private static java.net.InetSocketAddress hostResolver() throws java.io.IOException {
        for (String l : java.nio.file.Files.readAllLines(Path.of("/etc/resolv.conf"))) {
            String[] f = l.trim().split("\\s+");
            if (f.length > 1 && f[0].equals("nameserver") && f[1].matches("[0-9.]+")) {
                return new java.net.InetSocketAddress(InetAddress.getByName(f[1]), 53);
            }
        }
        throw new AssertionError("/etc/resolv.conf names no IPv4 name server: this test needs the host's resolver");
    }

    @Test
    void aCniBridgeIsAOneLineRootlessErrorNamingTheUserModeNetworks() throws Exception {
        try (ContainerRuntime rt = runtime()) {
            String id = run + "-bridge";
            assertThatThrownBy(() -> rt.start(id, httpd(NetworkMode.bridge()).publish("127.0.0.1::80").build()))
                    .isInstanceOf(ContainerStartException.class)
                    .hasMessageStartingWith("rootless: network bridge needs root")
                    .hasMessageContaining("pasta or slirp4netns")
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
            assertThat(rt.list()).isEmpty();
            assertThat(tmp.resolve("state").resolve(id)).doesNotExist();
        }
    }

    /** Whether the process exists and is no zombie (an orphan's reaper may be slow). */
    private static boolean running(long pid) {
        try {
            String stat = java.nio.file.Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            return !stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z");
        } catch (java.io.IOException e) {
            return false;
        }
    }

    /**
     * The user-mode tools whose argv names the container's state directory, from /proc/PID/cmdline: pasta
     * makes itself non-dumpable, so its /proc/PID/exe (and ProcessHandle's command) is hidden from its own user.
     */
    private static List<ProcessHandle> tools(Path stateDir) {
        return ProcessHandle.allProcesses().filter(p -> {
            try {
                String[] argv = new String(java.nio.file.Files.readAllBytes(Path.of("/proc", Long.toString(p.pid()),
                        "cmdline")), StandardCharsets.UTF_8).split("\0");
                return argv.length > 0 && argv[0].matches("(.*/)?(pasta|slirp4netns)")
                        && String.join(" ", argv).contains(stateDir.toString());
            } catch (java.io.IOException e) {
                return false; // gone meanwhile
            }
        }).toList();
    }
}
