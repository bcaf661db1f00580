package dev.berth.network.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class HostRoutesTest {

    @Test
    void readsTheKernelsRouteTablesLeavingOutDefaultLinkLocalAndSingleAddresses() {
        List<String> v4 = List.of(
                "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT",
                "eth0\t00000000\t0100000A\t0003\t0\t0\t0\t00000000\t0\t0\t0",
                "eth0\t0000000A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0",
                "docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0",
                "lo\t0100007F\t00000000\t0005\t0\t0\t0\tFFFFFFFF\t0\t0\t0");
        assertThat(HostRoutes.parseIpv4(v4)).extracting(r -> r.destination() + " " + r.iface())
                .containsExactly("10.0.0.0/16 eth0", "172.17.0.0/16 docker0");
        List<String> v6 = List.of(
                "fd000000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0",
                "fe800000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0",
                "00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 00000400 00000001 00000000 00200200       lo",
                "ff000000000000000000000000000000 08 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000003 00000000 00000001     eth0");
        assertThat(HostRoutes.parseIpv6(v6)).extracting(r -> r.destination() + " " + r.iface())
                .containsExactly("fd00::/64 eth0");
    }
}
