package dev.berth.core.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.ContainerSpec;
import dev.berth.core.ContainerStartException;
import dev.berth.core.NetworkInfo;
import dev.berth.core.internal.net.ContainerNetwork;
import dev.berth.core.internal.net.NameService;
import dev.berth.network.Network;
import dev.berth.network.NetworkSpec;
import dev.berth.network.Networks;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A container's attachment without privileges: stand-in CNI plugins (shell scripts), recorded
 * mount calls, a recording name service. The order (record, pin, ADD, names, /etc files) and
 * every undo path: a failed ADD, a failed DEL that keeps the pin for the next attempt, the
 * reconciler's release by the record.
 */
class ContainerNetworkTest {
    static final String RESULT = "{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"name\":\"berth9\"},"
            + "{\"name\":\"eth0\",\"mac\":\"02:42:0a:59:00:02\",\"sandbox\":\"/x\"}],"
            + "\"ips\":[{\"address\":\"10.89.0.2/24\",\"gateway\":\"10.89.0.1\",\"interface\":1}]}";

    @TempDir
    Path tmp;
    Path plugins;
    Path calls;
    Path stateDir;
    RecordingSyscalls sys = new RecordingSyscalls();
    List<String> names = new ArrayList<>();
    Networks networks;
    NameService nameService = new NameService() {
        @Override
        public void add(Network network, String containerId, List<String> addresses, List<String> n, boolean serving) {
            names.add("add " + network.name() + " " + containerId + " " + addresses + " " + n + (serving ? "" : " (not serving)"));
        }

        @Override
        public void serve(String network, String containerId, boolean serving) {
            names.add("serve " + network + " " + containerId + " " + serving);
        }

        @Override
        public void remove(String network, String containerId) {
            names.add("remove " + network + " " + containerId);
        }

        @Override
        public Optional<String> server(Network network) {
            return Optional.of("10.89.0.1");
        }
    };

    @BeforeEach
    void setUp() throws IOException {
        plugins = Files.createDirectories(tmp.resolve("plugins"));
        calls = Files.createFile(tmp.resolve("calls"));
        for (String type : List.of("bridge", "portmap", "firewall")) {
            Path p = plugins.resolve(type);
            Files.writeString(p, "#!/bin/sh\ncat > /dev/null\necho \"" + type + " $CNI_COMMAND $CNI_NETNS\" >> " + calls + "\n"
                    + "if [ -e " + plugins + "/fail-" + type + "-$CNI_COMMAND ]; then\n"
                    + "  echo '{\"cniVersion\":\"1.0.0\",\"code\":11,\"msg\":\"failed to do " + type + "\",\"details\":\"because\"}'\n"
                    + "  exit 1\nfi\n"
                    + "if [ \"$CNI_COMMAND\" = ADD ]; then echo '" + RESULT + "'; fi\n");
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwx------"));
        }
        Path iptables = tmp.resolve("iptables"); // a stand-in: the rule is "there"; the host's firewall untouched
        Files.writeString(iptables, "#!/bin/sh\nexit 0\n");
        Files.setPosixFilePermissions(iptables, PosixFilePermissions.fromString("rwx------"));
        networks = Networks.open(tmp.resolve("storage"), List.of(plugins), List.of(iptables.toString()));
        networks.create(NetworkSpec.builder("web").build());
        stateDir = Files.createDirectories(tmp.resolve("state/c1"));
        Files.writeString(stateDir.resolve("hosts"), "");
        Files.writeString(stateDir.resolve("resolv.conf"), "");
    }

    private static ContainerSpec spec() {
        return ContainerSpec.builder().rootfs(Path.of("/r")).command("/bin/true").network("web").networkAlias("api")
                .publish("127.0.0.1::8080").build();
    }

    private ContainerNetwork attach() throws ContainerStartException {
        return ContainerNetwork.attach(networks, sys, nameService, stateDir, "c1", spec(), "web-1", 4242);
    }

    @Test
    void attachPinsAddsNamesAndWritesTheEtcFilesThenReleaseUndoesItInReverse() throws Exception {
        ContainerNetwork n = attach();
        String pin = stateDir.resolve("netns").toString();
        assertThat(sys.calls).contains("mount --bind /proc/4242/ns/net " + pin);
        assertThat(Files.readAllLines(calls)).containsExactly("bridge ADD " + pin, "portmap ADD " + pin,
                "firewall ADD " + pin);
        NetworkInfo info = n.info();
        assertThat(info.addresses()).containsExactly("10.89.0.2/24");
        assertThat(info.macAddress()).isEqualTo("02:42:0a:59:00:02");
        assertThat(info.ports()).singleElement().satisfies(p -> assertThat(p.hostPort()).isPositive());
        assertThat(info.aliases()).containsExactly("api");
        assertThat(ContainerNetwork.recordedInfo(stateDir)).contains(info);
        assertThat(names).containsExactly("add web c1 [10.89.0.2] [web-1, c1, api]");
        assertThat(Files.readString(stateDir.resolve("hosts"))).contains("10.89.0.2\tweb-1\n");
        assertThat(Files.readString(stateDir.resolve("resolv.conf"))).contains("nameserver 10.89.0.1\n");
        assertThat(networks.attachments("web")).hasSize(1);

        n.release();
        assertThat(Files.readAllLines(calls)).endsWith("firewall DEL " + pin, "portmap DEL " + pin, "bridge DEL " + pin);
        assertThat(sys.calls).anyMatch(c -> c.startsWith("umount2 " + pin + " "));
        assertThat(names).last().isEqualTo("remove web c1");
        assertThat(stateDir.resolve("netns")).doesNotExist();
        assertThat(stateDir.resolve("network.json")).doesNotExist();
        assertThat(networks.attachments("web")).isEmpty();
        int before = sys.calls.size();
        n.release(); // idempotent
        assertThat(sys.calls).hasSize(before);
    }

    @Test
    void aContainerWithAHealthCheckServesItsNamesOnlyWhileHealthyAndNothingAfterItsRelease() throws Exception {
        ContainerSpec checked = spec().toBuilder().healthCheck(dev.berth.core.HealthCheck.builder().tcp(8080).build()).build();
        ContainerNetwork n = ContainerNetwork.attach(networks, sys, nameService, stateDir, "c1", checked, "web-1", 4242);
        assertThat(names).containsExactly("add web c1 [10.89.0.2] [web-1, c1, api] (not serving)");
        n.health("starting");
        n.health("healthy");
        n.health("healthy"); // a state write without a health change: nothing
        n.health("unhealthy");
        n.health("healthy");
        n.health(null);
        assertThat(names).containsExactly("add web c1 [10.89.0.2] [web-1, c1, api] (not serving)",
                "serve web c1 false", "serve web c1 true", "serve web c1 false", "serve web c1 true");
        n.release();
        n.health("unhealthy");
        assertThat(names).last().isEqualTo("remove web c1");
    }

    @Test
    void aFailedAddFailsTheStartWithThePluginsErrorAndLeavesNothing() throws Exception {
        Files.writeString(plugins.resolve("fail-portmap-ADD"), "");
        assertThatThrownBy(this::attach).isInstanceOf(ContainerStartException.class)
                .hasMessage("network web: CNI portmap ADD for container c1: failed to do portmap: because (CNI error 11)");
        assertThat(Files.readAllLines(calls)).contains("bridge DEL " + stateDir.resolve("netns"));
        assertThat(sys.calls).anyMatch(c -> c.startsWith("umount2 " + stateDir.resolve("netns")));
        assertThat(stateDir.resolve("netns")).doesNotExist();
        assertThat(stateDir.resolve("network.json")).doesNotExist();
        assertThat(networks.attachments("web")).isEmpty();
        assertThat(names).noneMatch(c -> c.startsWith("add")); // its removal (a no-op then) runs on every release
    }

    @Test
    void aFailedDelKeepsThePinAndTheRecordForTheReconcilersNextAttempt() throws Exception {
        ContainerNetwork n = attach();
        Files.writeString(plugins.resolve("fail-bridge-DEL"), "");
        assertThatThrownBy(n::release).isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("network web: CNI DEL of container c1: CNI bridge DEL for container c1:")
                .hasMessageEndingWith("(netns pin " + stateDir.resolve("netns") + " kept for a later attempt)");
        assertThat(sys.calls).noneMatch(c -> c.startsWith("umount2"));
        assertThat(stateDir.resolve("netns")).exists();
        assertThat(stateDir.resolve("network.json")).exists();

        Files.delete(plugins.resolve("fail-bridge-DEL"));
        ContainerNetwork.releaseRecorded(networks, sys, nameService, stateDir, "c1"); // what reconcile runs
        assertThat(stateDir.resolve("netns")).doesNotExist();
        assertThat(stateDir.resolve("network.json")).doesNotExist();
        assertThat(networks.attachments("web")).isEmpty();
        ContainerNetwork.releaseRecorded(networks, sys, nameService, stateDir, "c1"); // nothing recorded: nothing to do
    }

    @Test
    void anUnreadableRecordIsNamedNotGuessedAt() throws Exception {
        Files.writeString(stateDir.resolve("network.json"), "{not json");
        assertThatThrownBy(() -> ContainerNetwork.recordedInfo(stateDir)).isInstanceOf(UncheckedIOException.class)
                .hasMessageStartingWith(stateDir.resolve("network.json").toString());
        Files.writeString(stateDir.resolve("network.json"), "{\"schema\":\"other/v9\"}");
        assertThatThrownBy(() -> ContainerNetwork.recordedInfo(stateDir)).hasMessageContaining("is not berth.container-network/v1");
    }
}
