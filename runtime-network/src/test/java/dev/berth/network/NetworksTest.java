package dev.berth.network;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The network store and the CNI chain against stand-in plugins, a fake route table and interface list. */
class NetworksTest {
    @TempDir
    Path tmp;
    FakePlugins plugins;
    Path procNet;
    Path sysClassNet;
    Networks networks;

    @BeforeEach
    void setUp() throws IOException {
        plugins = new FakePlugins(tmp);
        procNet = Files.createDirectories(tmp.resolve("proc-net"));
        Files.writeString(procNet.resolve("route"), "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\n"
                + "eth0\t00000000\t0100000A\t0003\t0\t0\t0\t00000000\n"
                + "eth0\t0000590A\t00000000\t0001\t0\t0\t0\t00FFFFFF\n"); // 10.89.0.0/24 is the host's
        sysClassNet = Files.createDirectories(tmp.resolve("sys-class-net"));
        Files.createDirectories(sysClassNet.resolve("berth0")); // a host interface already named so
        networks = Networks.open(tmp.resolve("storage"), List.of(plugins.dir), procNet, sysClassNet,
                List.of(plugins.iptables.toString()));
    }

    @Test
    void createdNetworksGetFreeSubnetsAndBridgesAndAreListedInspectedRemoved() throws IOException {
        Network a = networks.create(NetworkSpec.builder("a").build());
        Network b = networks.create(NetworkSpec.builder("b").build());
        assertThat(a.ranges()).extracting(r -> r.subnet() + " " + r.gateway().getHostAddress())
                .containsExactly("10.89.1.0/24 10.89.1.1"); // 10.89.0.0/24: the host's route
        assertThat(b.ranges().get(0).subnet().toString()).isEqualTo("10.89.2.0/24");
        assertThat(a.bridge()).isEqualTo("berth1");
        assertThat(b.bridge()).isEqualTo("berth2");
        assertThat(a.id()).matches("[0-9a-f]{64}");
        assertThat(networks.list()).extracting(Network::name).containsExactly("a", "b");
        assertThat(networks.inspect("a")).contains(a);
        assertThat(networks.inspect("../a")).isEmpty();
        assertThat(networks.remove("a")).isTrue();
        assertThat(networks.remove("a")).isFalse();
        assertThat(networks.list()).extracting(Network::name).containsExactly("b");
        // the default network, made on first use
        Network d = networks.defaultNetwork();
        assertThat(d.name()).isEqualTo("bridge");
        assertThat(d.ranges().get(0).subnet().toString()).isEqualTo("10.88.0.0/16");
        assertThat(networks.defaultNetwork()).isEqualTo(d);
    }

    @Test
    void badSubnetsAndNamesAreRefusedNamingTheField() throws IOException {
        networks.create(NetworkSpec.builder("a").subnet("10.90.0.0/24").ipv6Subnet("fd00:90::/64").build());
        assertThatThrownBy(() -> networks.create(NetworkSpec.builder("a").build()))
                .hasMessage("name: network \"a\" already exists");
        assertThatThrownBy(() -> networks.create(NetworkSpec.builder("b").subnet("10.90.0.0/16").build()))
                .hasMessage("subnet: 10.90.0.0/16 overlaps network \"a\" (10.90.0.0/24)");
        assertThatThrownBy(() -> networks.create(NetworkSpec.builder("b").subnet("10.89.0.128/25").build()))
                .hasMessage("subnet: 10.89.0.128/25 overlaps the host's route to 10.89.0.0/24 on eth0");
        assertThatThrownBy(() -> networks.create(NetworkSpec.builder("b").ipv6Subnet("fd00:90::/48").build()))
                .hasMessageStartingWith("ipv6Subnet: fd00:90::/48 overlaps network \"a\"");
        assertThatThrownBy(() -> networks.create(NetworkSpec.builder("bridge").build()))
                .hasMessageStartingWith("name: \"bridge\" is the default network's");
        assertThat(networks.list()).extracting(Network::name).containsExactly("a");
    }

    @Test
    void attachRunsTheChainInOrderWithPrevResultAndDetachRunsItBackwards() throws IOException {
        networks.create(NetworkSpec.builder("web").subnet("10.90.0.0/24").build());
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort(); // free after the close
        }
        Attachment a = networks.attach("web", "c1", "/run/netns/x", "eth0",
                List.of(PortMapping.parse("127.0.0.1:" + port + ":80"), PortMapping.parse("127.0.0.1::53/udp")));
        assertThat(plugins.invocations()).containsExactly("bridge ADD", "portmap ADD", "firewall ADD");
        assertThat(a.addresses()).containsExactly("10.89.0.2/24");
        assertThat(a.gateways()).containsExactly("10.89.0.1");
        assertThat(a.mac()).isEqualTo("02:42:0a:59:00:02");
        assertThat(a.ports().get(0).hostPort()).isEqualTo(port);
        assertThat(a.ports().get(1).hostPort()).as("0: a free one chosen").isPositive();
        ObjectMapper json = new ObjectMapper();
        List<String> bridge = plugins.invocation(0);
        assertThat(bridge.get(0)).isEqualTo("env ADD c1 /run/netns/x eth0 " + plugins.dir);
        JsonNode bridgeConf = json.readTree(String.join("\n", bridge.subList(1, bridge.size())));
        assertThat(bridgeConf.path("name").asText()).isEqualTo("web");
        assertThat(bridgeConf.path("cniVersion").asText()).isEqualTo("1.0.0");
        assertThat(bridgeConf.path("bridge").asText()).isEqualTo("berth1");
        assertThat(bridgeConf.path("ipam").path("ranges").get(0).get(0).path("subnet").asText()).isEqualTo("10.90.0.0/24");
        assertThat(bridgeConf.path("ipam").path("dataDir").asText()).isEqualTo(tmp.resolve("storage/networks/_ipam").toString());
        assertThat(bridgeConf.has("prevResult")).isFalse();
        List<String> portmap = plugins.invocation(1);
        JsonNode portmapConf = json.readTree(String.join("\n", portmap.subList(1, portmap.size())));
        assertThat(portmapConf.path("prevResult")).isEqualTo(json.readTree(FakePlugins.RESULT));
        assertThat(portmapConf.path("runtimeConfig").path("portMappings").get(0).toString())
                .isEqualTo("{\"hostPort\":" + port + ",\"containerPort\":80,\"protocol\":\"tcp\",\"hostIP\":\"127.0.0.1\"}");
        assertThat(networks.attachments("web")).containsExactly(a);
        assertThatThrownBy(() -> networks.remove("web")).hasMessage("network web is in use by 1 container(s): c1");
        // the same host port again: refused before anything runs
        plugins.clear();
        assertThatThrownBy(() -> networks.attach("web", "c2", "/run/netns/y", "eth0",
                List.of(PortMapping.parse("0.0.0.0:" + port + ":8080"))))
                .hasMessage("bind 0.0.0.0:" + port + "/tcp: Address already in use (published by another container)");
        assertThat(plugins.invocations()).isEmpty();
        networks.check("web", "c1");
        assertThat(plugins.invocations()).containsExactly("bridge CHECK", "portmap CHECK", "firewall CHECK");
        plugins.clear();
        networks.detach("web", "c1");
        assertThat(plugins.invocations()).containsExactly("firewall DEL", "portmap DEL", "bridge DEL");
        List<String> del = plugins.invocation(2);
        assertThat(json.readTree(String.join("\n", del.subList(1, del.size()))).path("prevResult"))
                .isEqualTo(json.readTree(FakePlugins.RESULT));
        networks.detach("web", "c1"); // again: nothing to do
        assertThat(networks.attachments("web")).isEmpty();
        assertThat(networks.remove("web")).isTrue();
    }

    @Test
    void theLoopbackGuardIsInstalledOnceBeforeTheFirstAddAndGoesWithTheNetwork() throws IOException {
        String rule = "-i berth1 -d 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -m comment --comment"
                + " berth: no host loopback from berth1 -j DROP";
        networks.create(NetworkSpec.builder("web").build());
        assertThat(Files.readString(plugins.rules)).as("not before a container attaches").isEmpty();
        networks.attach("web", "c1", "/run/netns/x", "eth0", List.of());
        networks.attach("web", "c2", "/run/netns/y", "eth0", List.of());
        assertThat(Files.readAllLines(plugins.rules)).containsExactly(rule);
        networks.detach("web", "c1");
        networks.detach("web", "c2");
        assertThat(Files.readAllLines(plugins.rules)).as("a user network keeps it while it exists").containsExactly(rule);
        assertThat(networks.remove("web")).isTrue();
        assertThat(Files.readString(plugins.rules)).isEmpty();
    }

    @Test
    void aFailingIptablesFailsTheAttachNamingTheCommandAndLeavesNoRecord() throws IOException {
        Files.writeString(plugins.iptables, "#!/bin/sh\necho 'iptables: Permission denied (you must be root)'\nexit 4\n");
        networks.create(NetworkSpec.builder("web").build());
        assertThatThrownBy(() -> networks.attach("web", "c1", "/run/netns/x", "eth0", List.of()))
                .isInstanceOf(NetworkException.class)
                .hasMessageStartingWith(plugins.iptables + " -w -C INPUT -i berth1 -d 127.0.0.0/8")
                .hasMessageEndingWith(": exit 4: iptables: Permission denied (you must be root)");
        assertThat(plugins.invocations()).isEmpty();
        assertThat(networks.attachments("web")).isEmpty();
    }

    @Test
    void aFailedAddIsUndoneAndLeavesNoRecord() throws IOException {
        networks.create(NetworkSpec.builder("web").build());
        plugins.fail("portmap", "ADD");
        assertThatThrownBy(() -> networks.attach("web", "c1", "/run/netns/x", "eth0", List.of()))
                .isInstanceOf(NetworkException.class)
                .hasMessage("CNI portmap ADD for container c1: failed to do portmap: because (CNI error 11)")
                .satisfies(e -> assertThat(((NetworkException) e).cniCode()).isEqualTo(11));
        assertThat(plugins.invocations()).containsExactly("bridge ADD", "portmap ADD",
                "firewall DEL", "portmap DEL", "bridge DEL");
        assertThat(networks.attachments("web")).isEmpty();
    }

    @Test
    void aBrokenPluginInDelLeavesTheOthersRunAndTheRecordForARetry() throws IOException {
        networks.create(NetworkSpec.builder("web").build());
        networks.attach("web", "c1", "/run/netns/x", "eth0", List.of());
        plugins.clear();
        plugins.fail("portmap", "DEL");
        assertThatThrownBy(() -> networks.detach("web", "c1")).hasMessageStartingWith("CNI portmap DEL for container c1");
        assertThat(plugins.invocations()).containsExactly("firewall DEL", "portmap DEL", "bridge DEL");
        assertThat(networks.attachments("web")).as("kept for a retry").hasSize(1);
        Files.delete(plugins.dir.resolve("fail-portmap-DEL"));
        networks.detach("web", "c1");
        assertThat(networks.attachments("web")).isEmpty();
    }

    @Test
    void aMissingPluginIsNamedWithWhereItWasSoughtAndItsPackage() throws IOException {
        networks.create(NetworkSpec.builder("web").build());
        Files.delete(plugins.dir.resolve("firewall"));
        assertThatThrownBy(() -> networks.attach("web", "c1", "/run/netns/x", "eth0", List.of()))
                .hasMessage("CNI plugin \"firewall\" not found in " + plugins.dir
                        + " (Debian: apt-get install containernetworking-plugins)");
        assertThat(networks.attachments("web")).isEmpty();
    }

    @Test
    void twoRuntimesCreatingAtOnceNeverShareASubnetOrBridge() throws Exception {
        Networks other = Networks.open(tmp.resolve("storage"), List.of(plugins.dir), procNet, sysClassNet,
                List.of(plugins.iptables.toString()));
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Network>> made = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                Networks n = i % 2 == 0 ? networks : other;
                String name = "n" + i;
                made.add(pool.submit((Callable<Network>) () -> n.create(NetworkSpec.builder(name).build())));
            }
            List<String> subnets = new ArrayList<>();
            List<String> bridges = new ArrayList<>();
            for (Future<Network> f : made) {
                subnets.add(f.get().ranges().get(0).subnet().toString());
                bridges.add(f.get().bridge());
            }
            assertThat(subnets).doesNotHaveDuplicates().hasSize(8);
            assertThat(bridges).doesNotHaveDuplicates().hasSize(8);
        } finally {
            pool.shutdownNow();
        }
    }

    /** A runtime's networks on storage root {@code tmp/name}, its bridge claims in the host's stand-in {@code tmp/host-claims}. */
    private Networks root(String name) throws IOException {
        return Networks.open(tmp.resolve(name), List.of(plugins.dir), procNet, sysClassNet,
                List.of(plugins.iptables.toString()), tmp.resolve("host-claims"));
    }

    @Test
    void runtimesOnDifferentStorageRootsCreatingAtOnceNeverShareABridgeOrSubnet() throws Exception {
        Path claims = tmp.resolve("host-claims");
        int roots = 4;
        ExecutorService pool = Executors.newFixedThreadPool(roots);
        try {
            for (int round = 0; round < 15; round++) {
                List<Networks> all = new ArrayList<>();
                for (int i = 0; i < roots; i++) {
                    all.add(root("r" + round + "-" + i));
                }
                java.util.concurrent.CyclicBarrier go = new java.util.concurrent.CyclicBarrier(roots);
                List<Future<List<Network>>> made = new ArrayList<>();
                for (Networks n : all) {
                    made.add(pool.submit(() -> {
                        go.await();
                        return List.of(n.defaultNetwork(), n.create(NetworkSpec.builder("user").build()));
                    }));
                }
                List<Network> nets = new ArrayList<>();
                for (Future<List<Network>> f : made) {
                    nets.addAll(f.get());
                }
                assertThat(nets).extracting(Network::bridge).as("round %d", round).doesNotHaveDuplicates()
                        .doesNotContain("berth0"); // the host's interface
                for (int a = 0; a < nets.size(); a++) {
                    for (int b = a + 1; b < nets.size(); b++) {
                        Subnet x = nets.get(a).ranges().get(0).subnet();
                        Subnet y = nets.get(b).ranges().get(0).subnet();
                        assertThat(x.overlaps(y)).as("round %d: %s and %s", round, x, y).isFalse();
                    }
                }
                // the first default network made in a round has 10.88.0.0/16: the last round's claims were let go
                assertThat(nets).extracting(n -> n.ranges().get(0).subnet().toString()).contains("10.88.0.0/16");
                // half the roots remove their networks, the others are deleted whole (their claims go stale)
                for (int i = 0; i < roots; i++) {
                    if (i % 2 == 0) {
                        assertThat(all.get(i).remove("user")).isTrue();
                        deleteTree(tmp.resolve("r" + round + "-" + i));
                    } else {
                        deleteTree(tmp.resolve("r" + round + "-" + i));
                    }
                }
            }
        } finally {
            pool.shutdownNow();
        }
        // what stale claims the last round left go with the next look
        Networks last = root("last");
        last.create(NetworkSpec.builder("x").build());
        try (var s = Files.list(claims)) {
            assertThat(s.map(p -> p.getFileName().toString()).filter(f -> f.endsWith(".json")).toList())
                    .containsExactly("berth1.json");
        }
    }

    @Test
    void aSubnetAnotherRootClaimedIsRefusedNamingThatNetwork() throws IOException {
        Networks a = root("a");
        Networks b = root("b");
        a.create(NetworkSpec.builder("web").subnet("10.90.0.0/24").build());
        assertThatThrownBy(() -> b.create(NetworkSpec.builder("db").subnet("10.90.0.0/16").build()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("subnet: 10.90.0.0/16 overlaps network \"web\" of storage root " + tmp.resolve("a")
                        + " (10.90.0.0/24)");
        assertThat(b.list()).isEmpty();
        // the same name in another root is another network, on its own bridge and subnet
        Network other = b.create(NetworkSpec.builder("web").build());
        assertThat(other.bridge()).isNotEqualTo(a.inspect("web").orElseThrow().bridge());
        assertThat(a.remove("web")).isTrue();
        assertThat(b.create(NetworkSpec.builder("db").subnet("10.90.0.0/16").build()).ranges().get(0).subnet())
                .hasToString("10.90.0.0/16");
    }

    @Test
    void anAttachClaimsAnUnclaimedNetworksBridgeAndRefusesOneAnotherRootHolds() throws IOException {
        Path claims = tmp.resolve("host-claims");
        Networks a = root("a");
        Networks b = root("b");
        Network web = a.create(NetworkSpec.builder("web").build());
        // b's network written on the same bridge, as a network made before claims (or by an older berth) could be
        Path nd = Files.createDirectories(tmp.resolve("b/networks/old/attachments")).getParent();
        Files.writeString(nd.resolve("network.json"), "{\"schema\":\"berth.network/v1\",\"name\":\"old\",\"id\":\"x\","
                + "\"bridge\":\"" + web.bridge() + "\",\"ranges\":[{\"subnet\":\"10.91.0.0/24\",\"gateway\":\"10.91.0.1\"}],"
                + "\"internal\":false,\"created\":\"2026-01-01T00:00:00Z\"}");
        Path ns = Files.createFile(tmp.resolve("netns"));
        assertThatThrownBy(() -> b.attach("old", "c1", ns.toString(), "eth0", List.of()))
                .isInstanceOf(NetworkException.class)
                .hasMessage("network old: its bridge " + web.bridge() + " is network \"web\" of storage root "
                        + tmp.resolve("a") + "'s; remove one of the two networks");
        assertThat(b.attachments("old")).isEmpty();
        assertThat(plugins.invocations()).isEmpty();
        // once a's network is gone, b's is claimed at its attach
        assertThat(a.remove("web")).isTrue();
        b.attach("old", "c1", ns.toString(), "eth0", List.of());
        assertThat(Files.readString(claims.resolve(web.bridge() + ".json"))).contains(tmp.resolve("b/networks/old").toString());
        assertThatThrownBy(() -> a.create(NetworkSpec.builder("z").subnet("10.91.0.0/25").build()))
                .hasMessageContaining("overlaps network \"old\" of storage root " + tmp.resolve("b"));
    }

    @Test
    void aClaimsDirectoryOthersMayWriteIsRefused() throws IOException {
        Path claims = Files.createDirectories(tmp.resolve("host-claims"));
        Files.setPosixFilePermissions(claims, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
        Networks a = root("a");
        assertThatThrownBy(() -> a.create(NetworkSpec.builder("web").build()))
                .isInstanceOf(NetworkException.class)
                .hasMessageStartingWith("bridge claims: " + claims + " must be a directory of uid ")
                .hasMessageEndingWith(", mode rwxrwxrwx)");
        assertThat(a.list()).isEmpty();
        Files.delete(claims);
        Files.createSymbolicLink(claims, tmp);
        assertThatThrownBy(() -> a.create(NetworkSpec.builder("web").build()))
                .hasMessageEndingWith("(it is a link)");
    }

    private static void deleteTree(Path p) throws IOException {
        try (var w = Files.walk(p)) {
            for (Path q : w.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(q);
            }
        }
    }
}
