package dev.berth.network;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class SubnetTest {

    @Test
    void parsesNormalisedPrefixesAndRefusesHostBitsAndNames() {
        assertThat(Subnet.parse("10.89.0.0/24").toString()).isEqualTo("10.89.0.0/24");
        assertThat(Subnet.parse("fd00:89::/64").toString()).isEqualTo("fd00:89::/64");
        assertThat(Subnet.parse("fd00:89::/64").isIpv6()).isTrue();
        assertThatThrownBy(() -> Subnet.parse("10.89.0.1/24")).hasMessage("\"10.89.0.1/24\" has host bits set; its network is 10.89.0.0/24");
        assertThatThrownBy(() -> Subnet.parse("10.89.0.0")).hasMessageContaining("is not a subnet in CIDR notation");
        assertThatThrownBy(() -> Subnet.parse("10.89.0.0/33")).hasMessage("\"10.89.0.0/33\": prefix length 33 is out of range 0-32");
        assertThatThrownBy(() -> Subnet.parse("example.com/24")).hasMessageContaining("is not an IPv4 or IPv6 address");
        assertThatThrownBy(() -> Subnet.parse("10.89.0.256/24")).hasMessageContaining("is not an IPv4 or IPv6 address");
        assertThatThrownBy(() -> Subnet.parse("10.89.0.0/x")).hasMessageContaining("the prefix length is not a number");
    }

    @Test
    void overlapsContainsHostsAndNext() {
        Subnet a = Subnet.parse("10.88.0.0/16");
        assertThat(a.overlaps(Subnet.parse("10.88.5.0/24"))).isTrue();
        assertThat(Subnet.parse("10.88.5.0/24").overlaps(a)).isTrue();
        assertThat(a.overlaps(Subnet.parse("10.89.0.0/24"))).isFalse();
        assertThat(a.overlaps(Subnet.parse("fd00::/8"))).isFalse();
        assertThat(a.contains(Subnet.address("10.88.255.255", "x"))).isTrue();
        assertThat(a.contains(Subnet.address("10.89.0.0", "x"))).isFalse();
        assertThat(a.host(1).getHostAddress()).isEqualTo("10.88.0.1");
        assertThat(Subnet.parse("10.89.0.0/24").next().toString()).isEqualTo("10.89.1.0/24");
        assertThat(Subnet.parse("10.89.255.0/24").next().toString()).isEqualTo("10.90.0.0/24");
        assertThat(Subnet.parse("fd00::/64").host(1)).isEqualTo(Subnet.address("fd00::1", "x"));
        assertThat(Subnet.format(Subnet.parse("fd00::/64").host(1))).isEqualTo("fd00::1");
        assertThat(Subnet.format(Subnet.address("2001:db8:0:0:1:0:0:1", "x"))).isEqualTo("2001:db8::1:0:0:1");
        assertThat(Subnet.format(Subnet.address("0:0:0:0:0:0:0:0", "x"))).isEqualTo("::");
        assertThat(Subnet.format(Subnet.address("fd00:0:1:0:0:0:0:0", "x"))).isEqualTo("fd00:0:1::");
        assertThat(Subnet.format(Subnet.address("1:0:1:0:1:0:1:0", "x"))).isEqualTo("1:0:1:0:1:0:1:0");
        assertThatThrownBy(() -> Subnet.parse("10.0.0.0/30").host(4)).hasMessage("10.0.0.0/30 has no address number 4");
        assertThatThrownBy(() -> Subnet.parse("255.255.255.0/24").next()).hasMessage("no prefix after 255.255.255.0/24");
    }
}
