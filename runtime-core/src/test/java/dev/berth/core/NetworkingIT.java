package dev.berth.core;

import static dev.berth.testing.Http.get;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.testing.HostCommand;
import dev.berth.core.testing.NetRootfs;
import dev.berth.core.testing.NetworkEmbedderMain;
import dev.berth.network.Network;
import dev.berth.network.NetworkSpec;
import dev.berth.testing.Preconditions;
import dev.berth.testing.RequiresRoot;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Containers on CNI networks with the real plugins (Debian's containernetworking-plugins): a
 * published port reached from the host's 127.0.0.1, a sidecar in another container's network
 * namespace, and after close, a failed start and a JVM killed with SIGKILL then reconciled, nothing
 * of the container left on the host (veth, firewall rules, address leases, netns pin, names).
 * Traffic stays on this machine.
 */
@RequiresRoot
class NetworkingIT {
    @TempDir
    static Path shared;
    static Path rootfs;
    @TempDir
    Path tmp;
    Path state;
    Path storage;

    @BeforeAll
    static void rootfs() throws Exception {
        Preconditions.require(NetRootfs.available(),
                "requires busybox, wget, getent and Debian's containernetworking-plugins in /usr/lib/cni");
        rootfs = NetRootfs.build(shared.resolve("net-root"));
    }

    @BeforeEach
    void roots() {
        state = tmp.resolve("state");
        storage = tmp.resolve("storage");
    }

    private ContainerRuntime runtime() {
        return ContainerRuntime.builder().stateRoot(state).storageRoot(storage).build();
    }

    private static ContainerSpec.Builder httpd(String network) {
        return ContainerSpec.builder().rootfs(rootfs).network(network)
                .command("/bin/busybox", "httpd", "-f", "-p", "80", "-h", "/www")
                .stdout(Stdio.discard()).stderr(Stdio.discard());
    }

    @Test
    void aPortPublishedOnTheHostsLoopbackAnswersAndNothingIsLeftAfterClose() throws Exception {
        try (ContainerRuntime rt = runtime()) {
            Network bridge = rt.networks().defaultNetwork();
            String id;
            NetworkInfo info;
            try (Container c = rt.start(httpd("bridge").publish("127.0.0.1:0:80").build())) {
                id = c.id();
                info = c.network().orElseThrow();
                assertThat(info.network()).isEqualTo("bridge");
                assertThat(c.ports()).singleElement().satisfies(p -> {
                    assertThat(p.hostPort()).as("an ephemeral port chosen").isPositive();
                    assertThat(p.containerPort()).isEqualTo(80);
                    assertThat(p.hostIp()).isEqualTo(InetAddress.getByName("127.0.0.1"));
                });
                assertThat(c.addresses()).singleElement().satisfies(a -> assertThat(bridge.ranges().get(0).subnet()
                        .contains(InetAddress.getByName(a))).isTrue());
                assertThat(get("http://127.0.0.1:" + c.ports().get(0).hostPort() + "/")).isEqualTo("hello\n");
                assertThat(get("http://" + c.addresses().get(0) + ":80/")).isEqualTo("hello\n");
                assertThat(rt.list()).singleElement().satisfies(i -> assertThat(i.network()).contains(info));
                assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).contains(state.resolve(id).resolve("netns")
                        .toString());
                assertThat(Files.readString(state.resolve(id).resolve("hosts"))).contains(c.addresses().get(0) + "\t" + id);
            }
            assertNothingLeftOf(id, info, bridge);
            assertThat(Files.exists(Path.of("/sys/class/net", bridge.bridge()))).as("the default bridge, idle").isFalse();
            assertThat(rt.networks().remove("bridge")).as("the default network, and its bridge").isTrue();
        }
    }

    @Test
    void aStartThatFailsAfterTheAttachTakesItBack() throws Exception {
        try (ContainerRuntime rt = runtime()) {
            Network bridge = rt.networks().defaultNetwork();
            assertThatThrownBy(() -> rt.start("nocommand", httpd("bridge").publish("127.0.0.1::80")
                    .command("/no/such/command").build()))
                    .isInstanceOf(ContainerStartException.class).hasMessageContaining("/no/such/command")
                    .satisfies(e -> System.out.println("failed start: " + e.getMessage()));
            assertNothingLeftOf("nocommand", null, bridge);
            assertThat(rt.networks().remove("bridge")).isTrue();
        }
    }

    @Test
    void aHostPortInUseIsRefusedBeforeAnythingIsMade() throws Exception {
        try (ContainerRuntime rt = runtime(); ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            assertThatThrownBy(() -> rt.start("porttaken", httpd("bridge").publish("127.0.0.1:" + port + ":80").build()))
                    .isInstanceOf(ContainerStartException.class)
                    .hasMessage("bind 127.0.0.1:" + port + ": Address already in use");
            assertThat(Files.exists(state.resolve("porttaken"))).isFalse();
            assertThat(rt.networks().attachments("bridge")).isEmpty();
            assertThatThrownBy(() -> rt.start("nonet", httpd("no-such-net").build()))
                    .isInstanceOf(ContainerStartException.class).hasMessageStartingWith("network: no such network: no-such-net");
        }
    }

    @Test
    void aSidecarInAnotherContainersNetworkReachesItOnLoopback() throws Exception {
        try (ContainerRuntime rt = runtime()) {
            rt.networks().create(NetworkSpec.builder("side").build());
            try (Container web = rt.start("web", httpd("side").build())) {
                ContainerSpec sidecar = ContainerSpec.builder().rootfs(rootfs).network("container:web")
                        .command("/usr/bin/wget", "-q", "-T", "5", "-O", "-", "http://127.0.0.1:80/")
                        .stdout(Stdio.pipe()).build();
                String out = waitForOutput(rt, sidecar, "hello\n");
                assertThat(out).isEqualTo("hello\n");
                // it sees the network as the first does: its address, its network's name server
                ContainerSpec byName = ContainerSpec.builder().rootfs(rootfs).network("container:web")
                        .command("/usr/bin/wget", "-q", "-T", "5", "-O", "-", "http://web/").stdout(Stdio.pipe()).build();
                assertThat(waitForOutput(rt, byName, "hello\n")).isEqualTo("hello\n");
                assertThat(web.isRunning()).isTrue();
            }
            assertThatThrownBy(() -> rt.start(ContainerSpec.builder().rootfs(rootfs).network("container:web")
                    .command("/bin/busybox", "true").build()))
                    .isInstanceOf(ContainerStartException.class).hasMessageStartingWith("network: container:web: no such container");
            assertThat(rt.networks().remove("side")).isTrue();
        }
    }

    @Test
    void containersOnAUserNetworkFindEachOtherByNameAndAlias() throws Exception {
        try (ContainerRuntime rt = runtime()) {
            Network net = rt.networks().create(NetworkSpec.builder("names").build());
            String gateway = dev.berth.network.Subnet.format(net.ranges().get(0).gateway());
            try (Container web = rt.start("web", httpd("names").networkAlias("site").build())) {
                assertThat(Files.readString(state.resolve("web/resolv.conf"))).contains("nameserver " + gateway + "\n");
                assertThat(dnsEntries("names")).singleElement().isEqualTo(new dev.berth.network.dns.NamesFile.Entry("web",
                        List.of(web.addresses().get(0)), List.of("web", "site"), true));
                for (String name : List.of("web", "site")) {
                    ContainerSpec client = ContainerSpec.builder().rootfs(rootfs).network("names")
                            .command("/usr/bin/wget", "-q", "-T", "5", "-O", "-", "http://" + name + "/")
                            .stdout(Stdio.pipe()).stderr(Stdio.discard()).build();
                    assertThat(waitForOutput(rt, client, "hello\n")).as("fetched by " + name).isEqualTo("hello\n");
                }
            }
            assertThat(Files.exists(storage.resolve("networks/_dns/names"))).as("the name server's directory").isFalse();
            assertThat(nameServers(storage.resolve("networks/_dns/names"))).as("its server").isEmpty();
            assertThat(rt.networks().remove("names")).isTrue();
        }
    }

    @Test
    void anAskedForAddressAndMacAreTheInterfacesAndAnAddressOutsideTheSubnetIsRefused() throws Exception {
        try (ContainerRuntime rt = runtime()) {
            Network net = rt.networks().create(NetworkSpec.builder("fixed").subnet("10.89.200.0/24").build());
            try (Container c = rt.start(ContainerSpec.builder().rootfs(rootfs).network("fixed").ipAddress("10.89.200.77")
                    .macAddress("02:42:0A:59:C8:4D").command("/bin/busybox", "sh", "-c",
                            "/bin/busybox ip -o -4 addr show eth0; /bin/busybox cat /sys/class/net/eth0/address")
                    .stdout(Stdio.pipe()).build())) {
                String out = new String(c.stdout().readAllBytes(), StandardCharsets.UTF_8);
                assertThat(c.waitFor()).isEqualTo(ExitStatus.exited(0));
                assertThat(out).contains("inet 10.89.200.77/24").contains("02:42:0a:59:c8:4d");
                assertThat(c.addresses()).containsExactly("10.89.200.77");
                assertThat(c.network().orElseThrow().macAddress()).isEqualTo("02:42:0a:59:c8:4d");
            }
            assertThatThrownBy(() -> rt.start("outside", ContainerSpec.builder().rootfs(rootfs).network("fixed")
                    .ipAddress("10.1.2.3").command("/bin/busybox", "true").build()))
                    .isInstanceOf(ContainerStartException.class)
                    .hasMessageStartingWith("network fixed: ipAddress: 10.1.2.3 is not in network fixed's subnets");
            assertNothingLeftOf("outside", null, net);
            assertThat(rt.networks().remove("fixed")).isTrue();
        }
    }

    @Test
    void threeReplicasBehindOneAliasAreAllSeenAndAStoppedOneDropsOut() throws Exception {
        try (ContainerRuntime rt = runtime()) {
            rt.networks().create(NetworkSpec.builder("replicas").build());
            List<Container> replicas = new ArrayList<>();
            try {
                for (int i = 1; i <= 3; i++) {
                    replicas.add(rt.start("rep-" + i, ContainerSpec.builder().rootfs(rootfs).network("replicas")
                            .hostname("rep-" + i).networkAlias("svc")
                            .command("/bin/sh", "-c", "d=/tmp/$(/bin/busybox hostname) && /bin/busybox mkdir -p $d"
                                    + " && /bin/busybox hostname > $d/index.html && exec /bin/busybox httpd -f -p 80 -h $d")
                            .stdout(Stdio.discard()).stderr(Stdio.discard()).build()));
                }
                assertThat(seenBehind(rt, "svc", 3)).containsExactlyInAnyOrder("rep-1", "rep-2", "rep-3");
                replicas.get(1).stop(java.time.Duration.ofSeconds(5));
                assertThat(seenBehind(rt, "svc", 2)).as("after rep-2 stopped").containsExactlyInAnyOrder("rep-1", "rep-3");
            } finally {
                replicas.forEach(Container::close);
            }
            assertThat(Files.exists(storage.resolve("networks/_dns/replicas"))).isFalse();
            assertThat(rt.networks().remove("replicas")).isTrue();
        }
    }

    /** Cgroup names are the host's: ids unique to this run (the tests below), so that no other run shares one. */
    private final String run = "nt" + Long.toHexString(System.nanoTime() & 0xffffff);

    /**
     * A replica on {@code network}: host name {@code name}, alias {@code svc}, serving its host name
     * over HTTP (from a directory of its own: the test rootfs is shared, not an overlay).
     */
    private ContainerSpec.Builder replica(String network, String name) {
        return ContainerSpec.builder().rootfs(rootfs).network(network).hostname(name).networkAlias("svc")
                .command("/bin/sh", "-c", "d=/tmp/www-$(/bin/busybox hostname) && /bin/busybox mkdir -p $d && /bin/busybox hostname > $d/index.html"
                        + " && exec /bin/busybox httpd -f -p 80 -h $d")
                .stdout(Stdio.discard()).stderr(Stdio.discard());
    }

    @Test
    void aClientTakingTheFirstAddressOfASharedAliasReachesEachReplicaInTurn() throws Exception {
        try (ContainerRuntime rt = runtime(); NetworkLease lease = new NetworkLease(rt, "rr")) {
            List<Container> replicas = new ArrayList<>();
            try {
                for (int i = 1; i <= 3; i++) {
                    replicas.add(rt.start(run + "-rr-" + i, replica("rr", "rr-" + i).build()));
                }
                Set<String> all = new HashSet<>();
                replicas.forEach(c -> all.add(c.addresses().get(0)));
                assertThat(eventually(() -> resolved(rt, "rr", "svc"), all)).as("every replica's address").isEqualTo(all);
                // each request looks the alias up and goes to the first address of the answer (busybox
                // nslookup keeps the server's order; glibc's getaddrinfo would re-sort same-subnet
                // addresses by RFC 6724 rule 9, see docs/architecture.md): with one fixed order it
                // would reach one replica nine times
                ContainerSpec client = ContainerSpec.builder().rootfs(rootfs).network("rr")
                        .command("/bin/sh", "-c", "for i in 1 2 3 4 5 6 7 8 9; do a=$(/bin/busybox nslookup -type=a svc"
                                + " | /bin/busybox awk '/^Name:/ {n=1} n && /^Address/ {print $2; exit}');"
                                + " /usr/bin/wget -q -T 5 -O - http://$a/; done")
                        .stdout(Stdio.pipe()).stderr(Stdio.discard()).build();
                List<String> reached;
                try (Container c = rt.start(client)) {
                    reached = List.of(new String(c.stdout().readAllBytes(), StandardCharsets.UTF_8).trim().split("\\s+"));
                    assertThat(c.waitFor()).isEqualTo(ExitStatus.exited(0));
                }
                assertThat(reached).hasSize(9);
                assertThat(new HashSet<>(reached)).containsExactlyInAnyOrder("rr-1", "rr-2", "rr-3");
                for (String r : List.of("rr-1", "rr-2", "rr-3")) {
                    assertThat(reached.stream().filter(r::equals).count()).as(r + " in " + reached).isEqualTo(3);
                }
                replicas.get(0).stop(java.time.Duration.ofSeconds(5));
                all.remove(replicas.get(0).addresses().get(0));
                assertThat(eventually(() -> resolved(rt, "rr", "svc"), all)).as("after rr-1 stopped").isEqualTo(all);
            } finally {
                replicas.forEach(Container::close);
            }
            assertThat(Files.exists(storage.resolve("networks/_dns/rr"))).isFalse();
            assertThat(nameServers(storage.resolve("networks/_dns/rr"))).isEmpty();
            assertThat(rt.networks().remove("rr")).isTrue();
        }
    }

    @Test
    void aReplicaWithAHealthCheckIsInItsAliasOnlyWhileHealthy() throws Exception {
        try (ContainerRuntime rt = runtime(); NetworkLease lease = new NetworkLease(rt, "hc")) {
            List<Container> started = new ArrayList<>();
            try {
                Container plain = rt.start(run + "-hc-1", replica("hc", "hc-1").build());
                started.add(plain);
                Container checked = rt.start(run + "-hc-2", replica("hc", "hc-2").healthCheck(HealthCheck.builder()
                        .shell("test -f /tmp/ok").interval(java.time.Duration.ofMillis(200))
                        .timeout(java.time.Duration.ofSeconds(5)).retries(1).build()).build());
                started.add(checked);
                String p = plain.addresses().get(0);
                String c = checked.addresses().get(0);
                assertThat(dnsEntries("hc")).filteredOn(e -> e.id().equals(run + "-hc-2")).singleElement()
                        .satisfies(e -> assertThat(e.serving()).as("starting: not yet").isFalse());
                assertThat(eventually(() -> resolved(rt, "hc", "svc"), Set.of(p))).as("starting or unhealthy").isEqualTo(Set.of(p));
                assertThat(resolved(rt, "hc", "hc-2")).as("its own name too").isEmpty();
                exec(checked, "/bin/busybox", "touch", "/tmp/ok");
                assertThat(eventually(() -> resolved(rt, "hc", "svc"), Set.of(p, c))).as("healthy").isEqualTo(Set.of(p, c));
                assertThat(checked.health().orElseThrow().status()).isEqualTo(HealthStatus.HEALTHY);
                exec(checked, "/bin/busybox", "rm", "/tmp/ok"); // its check fails from now on
                assertThat(eventually(() -> resolved(rt, "hc", "svc"), Set.of(p))).as("unhealthy").isEqualTo(Set.of(p));
                assertThat(checked.health().orElseThrow().status()).isEqualTo(HealthStatus.UNHEALTHY);
                exec(checked, "/bin/busybox", "touch", "/tmp/ok");
                assertThat(eventually(() -> resolved(rt, "hc", "svc"), Set.of(p, c))).as("healthy again").isEqualTo(Set.of(p, c));
                checked.stop(java.time.Duration.ofSeconds(5));
                assertThat(eventually(() -> resolved(rt, "hc", "svc"), Set.of(p))).as("stopped").isEqualTo(Set.of(p));
            } finally {
                started.forEach(Container::close);
            }
            assertThat(Files.exists(storage.resolve("networks/_dns/hc"))).isFalse();
            assertThat(rt.networks().remove("hc")).isTrue();
        }
    }

    @Test
    void aContainerRoutingLoopbackToItsGatewayDoesNotReachTheHostsLoopbackServices() throws Exception {
        // a host service on 127.0.0.1, published by no container (sshd, a database, a debug port)
        try (ServerSocket secret = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            Thread server = new Thread(() -> {
                while (!secret.isClosed()) {
                    try (java.net.Socket s = secret.accept()) {
                        s.getOutputStream().write("HTTP/1.0 200 OK\r\nContent-Length: 7\r\n\r\nsecret\n"
                                .getBytes(StandardCharsets.US_ASCII));
                    } catch (IOException e) {
                        // closed
                    }
                }
            });
            server.setDaemon(true);
            server.start();
            String before = rules();
            try (ContainerRuntime rt = runtime(); NetworkLease lease = new NetworkLease(rt, "lo")) {
                Network net = lease.network;
                String gateway = dev.berth.network.Subnet.format(net.ranges().get(0).gateway());
                try (Container c = rt.start(run + "-lo", httpd("lo").publish("127.0.0.1::80").build())) {
                    int port = c.ports().get(0).hostPort();
                    assertThat(get("http://127.0.0.1:" + port + "/")).as("the published port on loopback").isEqualTo("hello\n");
                    assertThat(Files.readString(Path.of("/proc/sys/net/ipv4/conf", net.bridge(), "route_localnet")).trim())
                            .as("portmap's route_localnet on the bridge").isEqualTo("1");
                    // the attacker, as root with NET_ADMIN in the container's namespace would: loopback
                    // routed to the gateway, and loopback addresses accepted on eth0
                    String pin = state.resolve(run + "-lo").resolve("netns").toString();
                    HostCommand.run("nsenter", "--net=" + pin, "/bin/sh", "-c",
                            "echo 1 > /proc/sys/net/ipv4/conf/all/route_localnet && echo 1 > /proc/sys/net/ipv4/conf/eth0/route_localnet"
                                    + " && ip route del local 127.0.0.0/8 dev lo table local"
                                    + " && ip route del local 127.0.0.1 dev lo table local"
                                    + " && ip route add 127.0.0.1/32 via " + gateway + " dev eth0 onlink");
                    ExecProcess p = c.exec(ExecSpec.builder().command("/usr/bin/wget", "-O", "-", "-T", "3", "-t", "1",
                            "http://127.0.0.1:" + secret.getLocalPort() + "/").stdout(Stdio.pipe()).stderr(Stdio.pipe()).build());
                    String out = new String(p.stdout().readAllBytes(), StandardCharsets.UTF_8);
                    String err = new String(p.stderr().readAllBytes(), StandardCharsets.UTF_8);
                    Optional<ExitStatus> exit = p.waitFor(java.time.Duration.ofSeconds(30));
                    assertThat(out).as("the host's 127.0.0.1:" + secret.getLocalPort() + " from the container").doesNotContain("secret");
                    assertThat(err).as("wget's report").contains("Connecting to 127.0.0.1:" + secret.getLocalPort());
                    assertThat(exit).as(err).isPresent().get().isNotEqualTo(ExitStatus.exited(0));
                    assertThat(get("http://127.0.0.1:" + port + "/")).as("the published port still").isEqualTo("hello\n");
                    assertThat(rules()).contains("-A INPUT -d 127.0.0.0/8 -i " + net.bridge() + " -m conntrack ! --ctstate"
                            + " RELATED,ESTABLISHED,DNAT");
                }
                assertThat(rt.networks().remove("lo")).isTrue();
            }
            assertThat(rules().lines().filter(l -> !before.contains(l)).toList()).as("firewall rules left").isEmpty();
        }
    }

    /** A network removed when the test ends, failed or not (its bridge and firewall rule are the host's). */
    private static final class NetworkLease implements AutoCloseable {
        final ContainerRuntime rt;
        final Network network;

        NetworkLease(ContainerRuntime rt, String name) throws IOException {
            this.rt = rt;
            this.network = rt.networks().create(NetworkSpec.builder(name).build());
        }

        @Override
        public void close() throws IOException {
            rt.networks().remove(network.name()); // false when the test removed it itself
        }
    }

    private static void exec(Container c, String... argv) throws Exception {
        ExecProcess p = c.exec(ExecSpec.of(argv));
        assertThat(p.waitFor(java.time.Duration.ofSeconds(10))).contains(ExitStatus.exited(0));
    }

    /** The IPv4 addresses one lookup of {@code name} gives in a client container of the network. */
    private static Set<String> resolved(ContainerRuntime rt, String network, String name) throws Exception {
        ContainerSpec client = ContainerSpec.builder().rootfs(rootfs).network(network)
                .command("/bin/sh", "-c", "/usr/bin/getent ahostsv4 " + name + " | /bin/busybox awk '{print $1}'"
                        + " | /bin/busybox sort -u")
                .stdout(Stdio.pipe()).stderr(Stdio.discard()).build();
        try (Container c = rt.start(client)) {
            Set<String> out = new HashSet<>(List.of(new String(c.stdout().readAllBytes(), StandardCharsets.UTF_8).trim()
                    .split("\\s+")));
            c.waitFor();
            out.remove("");
            return out;
        }
    }

    /** {@code f} until it gives {@code want}, at most 20 s; its last result. */
    private static Set<String> eventually(java.util.concurrent.Callable<Set<String>> f, Set<String> want) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        Set<String> got = f.call();
        while (!got.equals(want) && System.nanoTime() < deadline) {
            Thread.sleep(200);
            got = f.call();
        }
        return got;
    }

    @Test
    void aDetachedContainerKeepsItsNetworkAfterItsHandleIsClosedUntilItIsRemoved() throws Exception {
        try (ContainerRuntime rt = runtime()) {
            Network net = rt.networks().create(NetworkSpec.builder("det").build());
            Container c = rt.start("det-1", ContainerSpec.builder().rootfs(rootfs).network("det").networkAlias("d")
                    .publish("127.0.0.1::80").detached(true)
                    .command("/bin/busybox", "httpd", "-f", "-p", "80", "-h", "/www").build());
            NetworkInfo info = c.network().orElseThrow();
            int port = c.ports().get(0).hostPort();
            c.close(); // lets go of the handle: the container and its network go on
            assertThat(get("http://127.0.0.1:" + port + "/")).isEqualTo("hello\n");
            assertThat(rt.list()).singleElement().satisfies(i -> assertThat(i.network()).contains(info));
            try (ContainerRuntime next = runtime()) { // another runtime adopts it, network and all
                Container adopted = next.container("det-1").orElseThrow();
                assertThat(adopted.network()).contains(info);
                assertThat(adopted.ports()).isEqualTo(info.ports());
                adopted.close();
            }
            rt.remove("det-1", true);
            assertNothingLeftOf("det-1", info, net);
            assertThat(Files.exists(storage.resolve("networks/_dns/det"))).isFalse();
            assertThat(rt.networks().remove("det")).isTrue();
        }
    }

    @Test
    void containersStartingAndClosingAtOnceGetDistinctPortsAndAddressesAndLeaveNothing() throws Exception {
        int n = 6;
        try (ContainerRuntime rt = runtime()) {
            Network net = rt.networks().create(NetworkSpec.builder("busy").build());
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(n);
            List<Container> started = java.util.Collections.synchronizedList(new ArrayList<>());
            try {
                List<java.util.concurrent.Future<Container>> fs = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    String id = "busy-" + i;
                    fs.add(pool.submit(() -> {
                        Container c = rt.start(id, httpd("busy").networkAlias("many").publish("127.0.0.1::80").build());
                        started.add(c);
                        return c;
                    }));
                }
                for (java.util.concurrent.Future<Container> f : fs) {
                    f.get(120, TimeUnit.SECONDS);
                }
                assertThat(started.stream().map(c -> c.ports().get(0).hostPort()).distinct()).hasSize(n);
                assertThat(started.stream().map(c -> c.addresses().get(0)).distinct()).hasSize(n);
                assertThat(dnsEntries("busy")).hasSize(n).allMatch(e -> e.names().contains("many") && e.serving());
                for (Container c : started) {
                    assertThat(get("http://127.0.0.1:" + c.ports().get(0).hostPort() + "/")).isEqualTo("hello\n");
                }
                List<java.util.concurrent.Future<?>> closes = new ArrayList<>();
                for (Container c : started) {
                    closes.add(pool.submit(c::close));
                }
                for (java.util.concurrent.Future<?> f : closes) {
                    f.get(120, TimeUnit.SECONDS);
                }
            } finally {
                started.forEach(Container::close);
                pool.shutdownNow();
            }
            for (int i = 0; i < n; i++) {
                assertNothingLeftOf("busy-" + i, null, net);
            }
            assertThat(Files.exists(storage.resolve("networks/_dns/busy"))).isFalse();
            assertThat(nameServers(storage.resolve("networks/_dns/busy"))).isEmpty();
            assertThat(rt.networks().remove("busy")).isTrue();
        }
    }

    /** What a client container fetches from every address the alias resolves to, over three lookups, until {@code n} answer. */
    private static Set<String> seenBehind(ContainerRuntime rt, String alias, int n) throws Exception {
        ContainerSpec client = ContainerSpec.builder().rootfs(rootfs).network("replicas")
                .command("/bin/sh", "-c", "for i in 1 2 3; do for a in $(/usr/bin/getent ahostsv4 " + alias
                        + " | /bin/busybox awk '{print $1}' | /bin/busybox sort -u); do /usr/bin/wget -q -T 5 -O -"
                        + " http://$a/; done; done")
                .stdout(Stdio.pipe()).stderr(Stdio.discard()).build();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        Set<String> seen;
        do {
            try (Container c = rt.start(client)) {
                seen = new HashSet<>(List.of(new String(c.stdout().readAllBytes(), StandardCharsets.UTF_8).trim()
                        .split("\\s+")));
                c.waitFor();
            }
            seen.remove("");
        } while (seen.size() != n && System.nanoTime() < deadline && sleep());
        return seen;
    }

    private static boolean sleep() throws InterruptedException {
        Thread.sleep(200);
        return true;
    }

    private List<dev.berth.network.dns.NamesFile.Entry> dnsEntries(String network) throws IOException {
        return dev.berth.network.dns.NamesFile.read(storage.resolve("networks/_dns").resolve(network)
                .resolve(dev.berth.network.dns.NameServer.FILE)).entries();
    }

    /** Name server processes serving the directory. */
    static List<Long> nameServers(Path dir) {
        return ProcessHandle.allProcesses().filter(p -> p.info().commandLine().orElse("")
                .contains(dev.berth.network.dns.NameServer.class.getName() + " " + dir + " "))
                .map(ProcessHandle::pid).toList();
    }

    @Test
    void aRuntimeKilledWithSigkillLeavesItsContainersNetworkToTheNextReconcile() throws Exception {
        Network net;
        try (ContainerRuntime rt = ContainerRuntime.builder().stateRoot(state).storageRoot(storage).build()) {
            net = rt.networks().create(NetworkSpec.builder("crash").build());
        }
        String before = rules();
        String java = ProcessHandle.current().info().command().orElse("java");
        Process jvm = new ProcessBuilder(java, "-XX:TieredStopAtLevel=1", "-cp", CrashRecoveryIT.classPath(),
                NetworkEmbedderMain.class.getName(), state.toString(), storage.toString(), rootfs.toString(), "crash",
                "crashed").redirectError(tmp.resolve("child.err").toFile()).start();
        NetworkInfo info;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(jvm.getInputStream(), StandardCharsets.UTF_8))) {
            String line = r.readLine();
            assertThat(line).as(() -> read(tmp.resolve("child.err"))).startsWith("started crashed ");
            int port = Integer.parseInt(line.split(" ")[2]);
            assertThat(get("http://127.0.0.1:" + port + "/")).isEqualTo("hello\n");
            assertThat(nameServers(storage.resolve("networks/_dns/crash"))).as("its name server").hasSize(1);
        } finally {
            jvm.destroyForcibly(); // SIGKILL: the container's init dies with its monitor, the pin stays
        }
        assertThat(jvm.waitFor(30, TimeUnit.SECONDS)).isTrue();
        try (ContainerRuntime rt = ContainerRuntime.builder().stateRoot(state).storageRoot(storage).reconcile(false).build()) {
            info = rt.list().get(0).network().orElseThrow();
            assertThat(rt.networks().attachments("crash")).hasSize(1);
            Reconciliation rec = rt.reconcile();
            assertThat(rec.failed()).isEmpty();
            assertThat(rec.removed()).containsExactly("crashed");
            assertNothingLeftOf("crashed", info, net);
            assertThat(Files.exists(storage.resolve("networks/_dns/crash"))).as("the name server's directory").isFalse();
            assertThat(nameServers(storage.resolve("networks/_dns/crash"))).as("its server").isEmpty();
            assertThat(rt.networks().remove("crash")).isTrue();
        }
        assertThat(rules().lines().filter(l -> !before.contains(l)).toList()).as("firewall rules left").isEmpty();
    }

    /** Starts the spec until its stdout is {@code want} (the server may still be starting), at most 20 s. */
    private static String waitForOutput(ContainerRuntime rt, ContainerSpec spec, String want) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        String out;
        do {
            try (Container c = rt.start(spec)) {
                out = new String(c.stdout().readAllBytes(), StandardCharsets.UTF_8);
                c.waitFor();
            }
            if (!out.equals(want)) {
                Thread.sleep(200);
            }
        } while (!out.equals(want) && System.nanoTime() < deadline);
        return out;
    }

    /** No veth on the bridge, rule, lease, pin, record or state of the container. */
    private void assertNothingLeftOf(String id, NetworkInfo info, Network network) throws Exception {
        if (Files.exists(Path.of("/sys/class/net", network.bridge()))) {
            assertThat(HostCommand.run("ip", "-o", "link", "show", "master", network.bridge()).trim())
                    .as("veths on the bridge").isEmpty();
        } else {
            assertThat(network.name()).as("only the default network's bridge goes with its last container")
                    .isEqualTo("bridge");
        }
        String rules = rules();
        assertThat(rules).as("firewall rules").doesNotContain(id);
        if (info != null) {
            for (String a : info.addresses()) {
                assertThat(rules).doesNotContain(a.replaceFirst("/.*", "") + "/");
                assertThat(rules).doesNotContain(a.replaceFirst("/.*", "") + ":");
            }
        }
        Path ipam = storage.resolve("networks/_ipam").resolve(network.name());
        if (Files.isDirectory(ipam)) {
            try (Stream<Path> s = Files.list(ipam)) {
                for (Path p : s.filter(Files::isRegularFile).toList()) {
                    assertThat(Files.readString(p)).as("lease " + p).doesNotContain(id);
                }
            }
        }
        assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).as("mounts").doesNotContain(state.resolve(id).toString());
        assertThat(Files.exists(state.resolve(id))).as("state").isFalse();
        try (ContainerRuntime rt = ContainerRuntime.builder().stateRoot(tmp.resolve("probe-state")).storageRoot(storage)
                .reconcile(false).build()) {
            assertThat(rt.networks().attachments(network.name())).as("attachments").isEmpty();
        }
    }

    /** iptables-save without counters and comments. */
    static String rules() throws Exception {
        return HostCommand.run("iptables-save").replaceAll("(?m)^#.*\n|\\[\\d+:\\d+]", "");
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return e.toString();
        }
    }

}
