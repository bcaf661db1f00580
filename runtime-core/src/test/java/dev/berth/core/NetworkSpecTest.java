package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.internal.state.SpecDocument;
import dev.berth.network.PortMapping;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The networking part of {@link ContainerSpec}: modes, ports, aliases, address and MAC, validated in build(). */
class NetworkSpecTest {
    private static ContainerSpec.Builder spec() {
        return ContainerSpec.builder().rootfs(Path.of("/r")).command("/bin/true");
    }

    @Test
    void theApiDefaultIsLoopbackOnlyAndSharingTheNamespaceIsHostMode() {
        assertThat(spec().build().network()).isEqualTo(NetworkMode.none());
        assertThat(spec().build().namespaces()).contains(Namespace.NETWORK);
        ContainerSpec shared = spec().shareNamespace(Namespace.NETWORK).build();
        assertThat(shared.network()).isEqualTo(NetworkMode.host());
        ContainerSpec host = spec().network("host").build();
        assertThat(host.namespaces()).doesNotContain(Namespace.NETWORK);
        assertThat(spec().network("container:web-1").build().namespaces()).as("its own, joined at start")
                .contains(Namespace.NETWORK);
    }

    @Test
    void modesParseAsDockerSpellsThem() {
        assertThat(NetworkMode.parse("none").kind()).isEqualTo(NetworkMode.Kind.NONE);
        assertThat(NetworkMode.parse("host").kind()).isEqualTo(NetworkMode.Kind.HOST);
        assertThat(NetworkMode.parse("bridge")).isEqualTo(NetworkMode.bridge());
        assertThat(NetworkMode.network("bridge")).isEqualTo(NetworkMode.bridge());
        assertThat(NetworkMode.parse("web")).isEqualTo(NetworkMode.network("web"));
        assertThat(NetworkMode.parse("web").networkName()).contains("web");
        assertThat(NetworkMode.parse("container:abc").name()).contains("abc");
        assertThat(NetworkMode.parse("container:abc").attaches()).isFalse();
        for (String m : List.of("none", "host", "bridge", "web", "container:abc")) {
            assertThat(NetworkMode.parse(m).toString()).isEqualTo(m);
        }
        for (String bad : List.of("", "container:", "container:../x", "-x", "a/b", "x".repeat(65), "we b")) {
            assertThatThrownBy(() -> NetworkMode.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("network: ");
        }
    }

    @Test
    void aNetworkModeNeedsTheContainersOwnNamespace() {
        assertThatThrownBy(() -> spec().network("bridge").shareNamespace(Namespace.NETWORK).build())
                .hasMessageStartingWith("network: bridge needs the container's own network namespace");
        assertThatThrownBy(() -> spec().network("container:x").shareNamespace(Namespace.NETWORK).build())
                .hasMessageStartingWith("network: container:x needs");
    }

    @Test
    void portsNeedANetworkAndEachHostPortOnce() {
        assertThatThrownBy(() -> spec().publish("8080:80").build())
                .hasMessage("ports[0]: publishing 0.0.0.0:8080->80/tcp needs the bridge, a user network, pasta or slirp4netns (network is none)");
        assertThatThrownBy(() -> spec().network("host").publish("80").build()).hasMessageContaining("(network is host)");
        assertThatThrownBy(() -> spec().network("container:x").publish("80").build())
                .hasMessageContaining("(network is container:x)");
        assertThatThrownBy(() -> spec().network("bridge").publish("8080:80").publish("8080:81").build())
                .hasMessage("ports[1]: host port 8080/tcp is ports[0]'s too");
        // the same host port on udp, and two ephemeral ones, are fine
        ContainerSpec ok = spec().network("bridge").publish("8080:80").publish("8080:80/udp").publish("81").publish("82").build();
        assertThat(ok.ports()).hasSize(4);
        assertThatThrownBy(() -> spec().network("bridge").publish("99999:80"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("ports[0]: \"99999:80\"");
        assertThatThrownBy(() -> spec().network("bridge").publish("1.2.3:80:80"))
                .hasMessageStartingWith("ports[0]: ");
        assertThatThrownBy(() -> spec().network("bridge").publish("80/sctp")).hasMessageContaining("protocol");
    }

    @Test
    void aliasesNeedAUserNetworkAndAreHostNames() {
        assertThat(spec().network("web").networkAlias("db", "db.internal").build().networkAliases())
                .containsExactly("db", "db.internal");
        assertThatThrownBy(() -> spec().network("bridge").networkAlias("db").build())
                .hasMessageStartingWith("networkAliases[0]: aliases need a user network (network is bridge");
        assertThatThrownBy(() -> spec().networkAlias("db").build()).hasMessageContaining("(network is none");
        for (String bad : List.of("", "a b", "-db", "db\n1.2.3.4 evil", "db,other", "x".repeat(64), "db.")) {
            assertThatThrownBy(() -> spec().network("web").networkAlias(bad).build()).as(bad)
                    .hasMessageStartingWith("networkAliases[0]: ");
        }
    }

    @Test
    void anAddressAndAMacAreCheckedAndNeedANetwork() {
        ContainerSpec s = spec().network("web").ipAddress("10.89.0.9").macAddress("02:42:ac:11:00:02").build();
        assertThat(s.ipAddress()).contains("10.89.0.9");
        assertThat(s.macAddress()).contains("02:42:ac:11:00:02");
        assertThatThrownBy(() -> spec().network("web").ipAddress("10.89.0.300").build())
                .hasMessage("ipAddress: \"10.89.0.300\" is not an IPv4 or IPv6 address");
        assertThatThrownBy(() -> spec().ipAddress("10.89.0.9").build()).hasMessageStartingWith("ipAddress: needs");
        assertThatThrownBy(() -> spec().network("web").macAddress("02:42:ac:11:00").build())
                .hasMessageStartingWith("macAddress: \"02:42:ac:11:00\" is not a MAC address");
        assertThatThrownBy(() -> spec().network("web").macAddress("01:00:5e:00:00:01").build())
                .hasMessage("macAddress: 01:00:5e:00:00:01 is a multicast address");
        assertThatThrownBy(() -> spec().network("host").macAddress("02:42:ac:11:00:02").build())
                .hasMessageStartingWith("macAddress: needs");
    }

    @Test
    void theStateKeepsTheNetworkSoToSpecGivesItBack() {
        ContainerSpec s = spec().network("web").publish("127.0.0.1::80").publish("[::1]:8443:443/tcp")
                .publish("5353:53/udp").networkAlias("api").ipAddress("10.89.0.7").macAddress("02:00:00:00:00:07")
                .build();
        ContainerSpec back = SpecDocument.of(s).toSpec();
        assertThat(back.network()).isEqualTo(NetworkMode.network("web"));
        assertThat(back.ports()).isEqualTo(s.ports());
        assertThat(back.networkAliases()).containsExactly("api");
        assertThat(back.ipAddress()).contains("10.89.0.7");
        assertThat(back.macAddress()).contains("02:00:00:00:00:07");
        assertThat(SpecDocument.of(spec().network("host").build()).toSpec().network()).isEqualTo(NetworkMode.host());
        assertThat(SpecDocument.of(spec().network("container:abc").build()).toSpec().network())
                .isEqualTo(NetworkMode.container("abc"));
        assertThat(SpecDocument.of(spec().build()).toSpec().network()).isEqualTo(NetworkMode.none());
        assertThat(s.toBuilder().build().ports()).isEqualTo(s.ports());
        assertThat(PortMapping.parse("80").hostPort()).isZero();
    }

    @Test
    void theUserModeNetworksParseAsPodmanSpellsThemPublishAndSurviveTheStateDocument() {
        assertThat(NetworkMode.parse("pasta")).isEqualTo(NetworkMode.pasta());
        assertThat(NetworkMode.parse("slirp4netns")).isEqualTo(NetworkMode.slirp4netns());
        assertThat(NetworkMode.pasta().userMode()).isTrue();
        assertThat(NetworkMode.pasta().attaches()).as("no CNI").isFalse();
        assertThat(NetworkMode.pasta().networkName()).isEmpty();
        assertThat(NetworkMode.bridge().userMode()).isFalse();
        ContainerSpec s = spec().network("slirp4netns").publish("127.0.0.1:8080:80").publish("53/udp").build();
        assertThat(s.ports()).hasSize(2);
        assertThat(SpecDocument.of(s).toSpec().network()).isEqualTo(NetworkMode.slirp4netns());
        assertThat(SpecDocument.of(spec().network("pasta").build()).toSpec().network().toString()).isEqualTo("pasta");
        assertThatThrownBy(() -> spec().network("pasta").networkAlias("db").build())
                .hasMessageStartingWith("networkAliases[0]: aliases need a user network (network is pasta");
        assertThatThrownBy(() -> spec().network("pasta").ipAddress("10.0.2.5").build())
                .hasMessage("ipAddress: needs the bridge or a user network (network is pasta)");
        assertThatThrownBy(() -> spec().network("slirp4netns").shareNamespace(Namespace.NETWORK).build())
                .hasMessageStartingWith("network: slirp4netns needs the container's own network namespace");
    }
}
