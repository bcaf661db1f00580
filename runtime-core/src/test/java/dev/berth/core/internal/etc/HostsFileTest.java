package dev.berth.core.internal.etc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.ExtraHost;
import java.util.List;
import org.junit.jupiter.api.Test;

class HostsFileTest {

    @Test
    void ownNetworkLocalhostThenExtraHostsThenTheContainersNameOnLoopback() {
        String f = HostsFile.own("worker-1", List.of(new ExtraHost("db", "10.0.0.5"), new ExtraHost("db", "fd00::5")));
        assertThat(f.lines()).containsSubsequence("127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback",
                "10.0.0.5\tdb", "fd00::5\tdb", "127.0.0.1\tworker-1", "::1\tworker-1");
        assertThat(f.lines().filter(l -> !l.startsWith("#"))).allMatch(l -> l.matches("[0-9a-f:.]+\t[a-z0-9 .-]+"));
        assertThat(f).endsWith("\n");
    }

    @Test
    void hostNetworkKeepsTheHostsFileAsItIsAndAddsOnlyWhatIsMissing() {
        String host = "127.0.0.1 localhost\n127.0.1.1\tbuildhost.example buildhost # the host\n";
        assertThat(HostsFile.host(host, "buildhost", false, List.of())).isEqualTo(host);
        assertThat(HostsFile.host(host, "BUILDHOST", true, List.of())).as("already named, case-insensitively").isEqualTo(host);
        String own = HostsFile.host(host, "c0ffee", true, List.of(new ExtraHost("db", "10.0.0.5")));
        assertThat(own).startsWith(host).endsWith("10.0.0.5\tdb\n127.0.0.1\tc0ffee\n");
        // a host file without a final newline, with a name only in a comment
        assertThat(HostsFile.host("10.1.1.1 a # c0ffee", "c0ffee", true, List.of()))
                .isEqualTo("10.1.1.1 a # c0ffee\n# Added by Berth for this container\n127.0.0.1\tc0ffee\n");
        assertThat(HostsFile.host("", "c0ffee", true, List.of())).isEqualTo("# Added by Berth for this container\n127.0.0.1\tc0ffee\n");
    }

    @Test
    void namesIgnoresAddressesCommentsAndPartialMatches() {
        assertThat(HostsFile.names("10.0.0.1 alpha beta\n", "beta")).isTrue();
        assertThat(HostsFile.names("10.0.0.1 alpha beta\r\n", "beta")).isTrue();
        assertThat(HostsFile.names("10.0.0.1 alphabet\n", "alpha")).isFalse();
        assertThat(HostsFile.names("beta\n", "beta")).as("an address, not a name").isFalse();
        assertThat(HostsFile.names("#10.0.0.1 beta\n", "beta")).isFalse();
        assertThat(HostsFile.names("\n\n   \t\n10.0.0.1\tbeta\n", "beta")).isTrue();
        assertThat(HostsFile.names("\0\0 beta\n", "beta")).as("glibc reads a NUL as the line's end").isFalse();
    }
}
