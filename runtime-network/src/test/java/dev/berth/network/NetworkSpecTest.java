package dev.berth.network;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class NetworkSpecTest {

    @Test
    void validatesNamingTheField() {
        assertThatThrownBy(() -> NetworkSpec.builder("-x").build()).hasMessageStartingWith("name: \"-x\" is not a network name");
        assertThatThrownBy(() -> NetworkSpec.builder("a/b").build()).hasMessageStartingWith("name: ");
        assertThatThrownBy(() -> NetworkSpec.builder("n").subnet("10.0.0.1/24")).hasMessageStartingWith("subnet: ");
        assertThatThrownBy(() -> NetworkSpec.builder("n").subnet("fd00::/64").build())
                .hasMessage("subnet: fd00::/64 is IPv6; give it as ipv6Subnet");
        assertThatThrownBy(() -> NetworkSpec.builder("n").subnet("10.0.0.0/31").build()).hasMessageStartingWith("subnet: 10.0.0.0/31 holds no address");
        assertThatThrownBy(() -> NetworkSpec.builder("n").gateway("10.0.0.1").build()).hasMessage("gateway: 10.0.0.1 needs a subnet");
        assertThatThrownBy(() -> NetworkSpec.builder("n").subnet("10.0.0.0/24").gateway("10.0.1.1").build())
                .hasMessage("gateway: 10.0.1.1 is not a host address of subnet 10.0.0.0/24");
        assertThatThrownBy(() -> NetworkSpec.builder("n").ipv6Subnet("10.0.0.0/24").build()).hasMessage("ipv6Subnet: 10.0.0.0/24 is not IPv6");
        NetworkSpec ok = NetworkSpec.builder("web_1.a-b").subnet("10.90.0.0/24").gateway("10.90.0.254").internal(true).build();
        assertThat(ok.gateway().orElseThrow().getHostAddress()).isEqualTo("10.90.0.254");
        assertThat(ok.internal()).isTrue();
    }
}
