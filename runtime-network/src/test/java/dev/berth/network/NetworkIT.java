package dev.berth.network;

import static dev.berth.testing.Http.get;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.testing.Preconditions;
import dev.berth.testing.RequiresRoot;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real plugins (Debian's containernetworking-plugins) against a network namespace made for
 * the test: an address on the network, a published port reached from the host's 127.0.0.1, and
 * after DEL and the network's removal nothing left on the host (veth, bridge, firewall rules,
 * address leases). Traffic stays on this machine.
 */
@RequiresRoot
class NetworkIT {
    @TempDir
    Path tmp;
    String netns;
    Process server;

    @BeforeEach
    void setUp() throws Exception {
        Preconditions.require(Files.isExecutable(Path.of("/usr/lib/cni/bridge")),
                "requires Debian's containernetworking-plugins in /usr/lib/cni");
        Preconditions.require(Files.isExecutable(Path.of("/usr/bin/busybox")), "requires busybox (httpd)");
        netns = "berth-it-" + ProcessHandle.current().pid() + "-" + System.nanoTime() % 100000;
        sh("ip", "netns", "add", netns);
    }

    @AfterEach
    void tearDown() throws Exception {
        if (server != null) {
            server.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        sh("ip", "netns", "delete", netns);
    }

    @Test
    void aPublishedPortAnswersOnTheHostsLoopbackAndNothingIsLeftAfterDetachAndRemove() throws Exception {
        Networks networks = Networks.open(tmp.resolve("storage"));
        Network net = networks.create(NetworkSpec.builder("it-web").build());
        String rulesBefore = sh("iptables-save").replaceAll("(?m)^#.*\n|\\[\\d+:\\d+]", "");
        String id = "it" + Long.toHexString(System.nanoTime());
        Attachment a = networks.attach("it-web", id, "/run/netns/" + netns, "eth0",
                List.of(PortMapping.parse("127.0.0.1::8080")));
        assertThat(a.addresses()).singleElement().asString().startsWith(net.ranges().get(0).subnet().toString()
                .replaceFirst("0/24$", ""));
        assertThat(sh("ip", "-n", netns, "-o", "-4", "addr", "show", "eth0")).contains(a.addresses().get(0));
        assertThat(Files.exists(Path.of("/sys/class/net", net.bridge()))).isTrue();

        Path www = Files.createDirectories(tmp.resolve("www"));
        Files.writeString(www.resolve("index.html"), "hello from " + id + "\n");
        server = new ProcessBuilder("ip", "netns", "exec", netns, "busybox", "httpd", "-f", "-p", "8080", "-h",
                www.toString()).redirectErrorStream(true).start();
        int hostPort = a.ports().get(0).hostPort();
        assertThat(hostPort).isPositive();
        String ip = a.addresses().get(0).replaceFirst("/.*", "");
        assertThat(get("http://127.0.0.1:" + hostPort + "/")).as("published on the host's loopback")
                .isEqualTo("hello from " + id + "\n");
        assertThat(get("http://" + ip + ":8080/")).as("the container's own address").isEqualTo("hello from " + id + "\n");
        networks.check("it-web", id);

        networks.detach("it-web", id);
        assertThat(sh("ip", "-n", netns, "-o", "link")).doesNotContain("eth0");
        assertThat(sh("ip", "-o", "link", "show", "master", net.bridge())).isEmpty();
        assertThat(sh("iptables-save")).doesNotContain(id);
        assertThat(leases(tmp.resolve("storage/networks/_ipam/it-web"))).noneMatch(l -> l.contains(id));
        assertThat(networks.remove("it-web")).isTrue();
        assertThat(Files.exists(Path.of("/sys/class/net", net.bridge()))).as("the bridge goes with its network").isFalse();
        assertThat(sh("iptables-save").replaceAll("(?m)^#.*\n|\\[\\d+:\\d+]", "").lines()
                .filter(l -> !rulesBefore.contains(l)).filter(l -> l.contains("it-web") || l.contains(id)).toList())
                .isEmpty();
    }

    @Test
    void aFailedAddLeavesNoLeaseRuleOrRecord() throws Exception {
        Networks networks = Networks.open(tmp.resolve("storage"));
        networks.create(NetworkSpec.builder("it-fail").build());
        String id = "it" + Long.toHexString(System.nanoTime());
        assertThatThrownBy(() -> networks.attach("it-fail", id, "/run/netns/no-such-" + netns, "eth0", List.of()))
                .isInstanceOf(NetworkException.class).hasMessageStartingWith("CNI bridge ADD for container " + id + ": ");
        assertThat(networks.attachments("it-fail")).isEmpty();
        assertThat(leases(tmp.resolve("storage/networks/_ipam/it-fail"))).noneMatch(l -> l.contains(id));
        assertThat(sh("iptables-save")).doesNotContain(id);
        // a host port in use by a process of the host: named before anything is made
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            assertThatThrownBy(() -> networks.attach("it-fail", id, "/run/netns/" + netns, "eth0",
                    List.of(PortMapping.parse("127.0.0.1:" + taken.getLocalPort() + ":80"))))
                    .hasMessage("bind 127.0.0.1:" + taken.getLocalPort() + ": Address already in use");
        }
        assertThat(sh("ip", "-n", netns, "-o", "link")).doesNotContain("eth0");
        assertThat(networks.remove("it-fail")).isTrue();
    }

    @Test
    void twoStorageRootsMakingTheirDefaultNetworksAtOnceGetTwoBridgesAndOneDetachLeavesTheOtherUp() throws Exception {
        String netns2 = netns + "-b";
        sh("ip", "netns", "add", netns2);
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
        try {
            for (int round = 0; round < 3; round++) {
                String run = Long.toHexString(System.nanoTime());
                List<Networks> roots = List.of(Networks.open(tmp.resolve("a-" + run)),
                        Networks.open(tmp.resolve("b-" + run)));
                List<String> spaces = List.of(netns, netns2);
                List<String> ids = List.of("ita" + run, "itb" + run);
                java.util.concurrent.CyclicBarrier go = new java.util.concurrent.CyclicBarrier(2);
                List<java.util.concurrent.Future<Attachment>> made = new java.util.ArrayList<>();
                for (int i = 0; i < 2; i++) {
                    int k = i;
                    made.add(pool.submit(() -> {
                        go.await();
                        return roots.get(k).attach(Networks.DEFAULT, ids.get(k), "/run/netns/" + spaces.get(k), "eth0",
                                List.of());
                    }));
                }
                try {
                    List<Network> nets = new java.util.ArrayList<>();
                    for (int i = 0; i < 2; i++) {
                        Attachment a = made.get(i).get(60, TimeUnit.SECONDS);
                        Network n = roots.get(i).defaultNetwork();
                        nets.add(n);
                        assertThat(n.ranges().get(0).subnet().contains(
                                Subnet.address(a.addresses().get(0).replaceFirst("/.*", ""), "address"))).isTrue();
                        assertThat(sh("ip", "-o", "link", "show", "master", n.bridge())).contains("veth");
                    }
                    assertThat(nets.get(0).bridge()).as("round %d", round).isNotEqualTo(nets.get(1).bridge());
                    assertThat(nets.get(0).ranges().get(0).subnet().overlaps(nets.get(1).ranges().get(0).subnet()))
                            .as("round %d: %s %s", round, nets.get(0).ranges(), nets.get(1).ranges()).isFalse();
                    // the first root's container goes, with its default network's idle bridge: the other's stays up
                    roots.get(0).detach(Networks.DEFAULT, ids.get(0));
                    assertThat(Files.exists(Path.of("/sys/class/net", nets.get(0).bridge()))).isFalse();
                    assertThat(Files.exists(Path.of("/sys/class/net", nets.get(1).bridge()))).isTrue();
                    String gw = Subnet.format(nets.get(1).ranges().get(0).gateway());
                    assertThat(sh("ip", "netns", "exec", netns2, "busybox", "ping", "-c", "1", "-W", "2", gw))
                            .contains("1 packets received");
                } finally {
                    for (int i = 0; i < 2; i++) {
                        roots.get(i).detach(Networks.DEFAULT, ids.get(i));
                        roots.get(i).remove(Networks.DEFAULT);
                    }
                }
                for (int i = 0; i < 2; i++) {
                    assertThat(sh("iptables-save")).doesNotContain(ids.get(i));
                }
                try (Stream<Path> claims = Files.list(Path.of("/run/berth/.bridges"))) {
                    for (Path c : claims.filter(f -> f.toString().endsWith(".json")).toList()) {
                        assertThat(Files.readString(c)).as("a claim left: %s", c).doesNotContain(run);
                    }
                }
            }
        } finally {
            pool.shutdownNow();
            sh("ip", "netns", "delete", netns2);
        }
    }

    private static List<String> leases(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isRegularFile).map(p -> {
                try {
                    return p.getFileName() + " " + Files.readString(p);
                } catch (IOException e) {
                    return p.getFileName().toString();
                }
            }).toList();
        }
    }

    private static String sh(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IOException(String.join(" ", cmd) + ": exit " + p.exitValue() + ": " + out);
        }
        return out;
    }
}
