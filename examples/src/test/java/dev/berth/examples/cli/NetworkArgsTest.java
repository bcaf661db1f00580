package dev.berth.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.ContainerSpec;
import dev.berth.core.NetworkMode;
import dev.berth.network.PortMapping;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** {@code --network}, {@code -p}, {@code -P}, {@code --network-alias}, {@code --ip}, {@code --mac-address} on a spec. */
class NetworkArgsTest {
    private static ContainerSpec.Builder spec() {
        return ContainerSpec.builder().rootfs(Path.of("/r")).command("/bin/true");
    }

    @Test
    void publishAllTakesTheImagesExposedPortsOnFreeHostPorts() {
        ContainerSpec.Builder b = spec();
        NetworkArgs.apply(b, "bridge", List.of("127.0.0.1:8080:80"), true, Set.of("53/udp"), List.of(), null, null);
        ContainerSpec s = b.build();
        assertThat(s.network()).isEqualTo(NetworkMode.bridge());
        assertThat(s.ports()).containsExactly(PortMapping.parse("127.0.0.1:8080:80"), PortMapping.parse("53/udp"));
        assertThat(s.ports().get(1).hostPort()).isZero();
        assertThat(NetworkArgs.exposedPort("8080")).isEqualTo(PortMapping.parse("8080/tcp"));
        assertThatThrownBy(() -> NetworkArgs.exposedPort("80/sctp")).hasMessageStartingWith("-P: the image exposes \"80/sctp\"");
    }

    @Test
    void eachOptionReachesTheSpecAndBadOnesNameTheOption() {
        ContainerSpec.Builder b = spec();
        NetworkArgs.apply(b, "web", List.of(), false, Set.of("80/tcp"), List.of("api"), "10.89.0.9", "02:00:00:00:00:09");
        ContainerSpec s = b.build();
        assertThat(s.network()).isEqualTo(NetworkMode.network("web"));
        assertThat(s.ports()).as("-P not given").isEmpty();
        assertThat(s.networkAliases()).containsExactly("api");
        assertThat(s.ipAddress()).contains("10.89.0.9");
        assertThat(s.macAddress()).contains("02:00:00:00:00:09");
        assertThatThrownBy(() -> NetworkArgs.apply(spec(), "a/b", List.of(), false, Set.of(), List.of(), null, null))
                .hasMessageStartingWith("--network: ").hasMessageEndingWith("(none, host, bridge, pasta, slirp4netns, container:ID or a network's name)");
        assertThatThrownBy(() -> NetworkArgs.apply(spec(), "bridge", List.of("80:80:80:80"), false, Set.of(), List.of(),
                null, null)).hasMessageStartingWith("-p: \"80:80:80:80\" is not");
    }

    @Test
    void pastaAndSlirp4netnsPublishWithTheSameSpelling() {
        ContainerSpec.Builder b = spec();
        NetworkArgs.apply(b, "pasta", List.of("127.0.0.1:8080:80", "5353:53/udp"), false, Set.of(), List.of(), null, null);
        ContainerSpec s = b.build();
        assertThat(s.network()).isEqualTo(NetworkMode.pasta());
        assertThat(s.ports()).extracting(Object::toString).containsExactly("127.0.0.1:8080->80/tcp", "0.0.0.0:5353->53/udp");
        ContainerSpec.Builder c = spec();
        NetworkArgs.apply(c, "slirp4netns", List.of("8080:80"), false, Set.of(), List.of(), null, null);
        assertThat(c.build().network()).isEqualTo(NetworkMode.slirp4netns());
    }
}
