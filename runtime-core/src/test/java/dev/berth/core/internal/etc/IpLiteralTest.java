package dev.berth.core.internal.etc;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class IpLiteralTest {

    @Test
    void acceptsTheLiteralsResolversTake() {
        for (String ok : new String[] {"0.0.0.0", "8.8.8.8", "255.255.255.255", "127.0.0.53", "::", "::1",
                "2001:db8::1", "fe80::1:2:3:4", "1:2:3:4:5:6:7:8", "::ffff:10.0.0.1", "64:ff9b::192.0.2.33",
                "FE80::ABCD", "1::", "1:2:3:4:5:6:7::"}) {
            assertThat(IpLiteral.isValid(ok)).as(ok).isTrue();
        }
    }

    @Test
    void refusesEverythingElseWithoutAskingDns() {
        for (String bad : new String[] {"", " ", "1.2.3", "1.2", "1", "256.1.1.1", "1.2.3.4.5", "01.2.3.4", "1.2.3.-4",
                "1.2.3.4 ", " 1.2.3.4", "1.2.3.4\n", "1.2.3.4\nnameserver 6.6.6.6", "example.com", "localhost",
                ":::", "1:::2", "1::2::3", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "12345::", "g::1", "::1.2.3",
                "1.2.3.4::", "fe80::1%eth0", "[::1]", "::1/128", "1.2.3.4/8", "\0", "0x7f.0.0.1", "١.٢.٣.٤"}) {
            assertThat(IpLiteral.isValid(bad)).as("\"" + bad + "\"").isFalse();
        }
        assertThat(IpLiteral.isValid(null)).isFalse();
        assertThat(IpLiteral.isValid("9".repeat(100_000))).isFalse();
        assertThat(IpLiteral.isValid(":".repeat(100_000))).isFalse();
    }

    @Test
    void loopbackIsTheWholeOf127AndOnlyColonColonOne() {
        for (String lo : new String[] {"127.0.0.1", "127.0.0.53", "127.0.1.1", "127.255.255.254", "::1",
                "0:0:0:0:0:0:0:1", "::ffff:127.0.0.53"}) {
            assertThat(IpLiteral.isLoopback(lo)).as(lo).isTrue();
        }
        for (String not : new String[] {"128.0.0.1", "10.255.255.53", "8.8.8.8", "::", "::2", "1::1", "::ffff:10.0.0.1",
                "fe80::1", "localhost", "garbage", ""}) {
            assertThat(IpLiteral.isLoopback(not)).as(not).isFalse();
        }
    }
}
