package dev.berth.network;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class PortMappingTest {

    @Test
    void parsesDockersSpellings() {
        assertThat(PortMapping.parse("80").toString()).isEqualTo("0.0.0.0:0->80/tcp");
        assertThat(PortMapping.parse("8080:80").toString()).isEqualTo("0.0.0.0:8080->80/tcp");
        assertThat(PortMapping.parse("127.0.0.1:8080:80/udp").toString()).isEqualTo("127.0.0.1:8080->80/udp");
        assertThat(PortMapping.parse("127.0.0.1::80").toString()).isEqualTo("127.0.0.1:0->80/tcp");
        assertThat(PortMapping.parse("[::1]:8080:80").toString()).isEqualTo("[::1]:8080->80/tcp");
        assertThat(PortMapping.parse("53/UDP").protocol()).isEqualTo("udp");
    }

    @Test
    void refusesWhatIsNoPortMappingNamingIt() {
        assertThatThrownBy(() -> PortMapping.parse("http")).hasMessageStartingWith("\"http\" is not [hostIP:][hostPort:]containerPort");
        assertThatThrownBy(() -> PortMapping.parse("8080:0")).hasMessageEndingWith("containerPort: 0 is not a port (1-65535)");
        assertThatThrownBy(() -> PortMapping.parse("70000:80")).hasMessageEndingWith("hostPort: 70000 is not a port (0-65535, 0: any free one)");
        assertThatThrownBy(() -> PortMapping.parse("80/sctp")).hasMessageEndingWith("protocol: \"sctp\" is neither tcp nor udp");
        assertThatThrownBy(() -> PortMapping.parse("host.example:80:80")).hasMessageContaining("is not an IPv4 or IPv6 address");
        assertThatThrownBy(() -> PortMapping.parse("[::1]8080:80")).hasMessageContaining("must be followed by ':'");
    }
}
