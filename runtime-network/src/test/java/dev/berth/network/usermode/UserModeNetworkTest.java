package dev.berth.network.usermode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.network.NetworkException;
import dev.berth.network.PortMapping;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The tools' command lines and requests, and what a failing or hanging tool leaves (nothing), with fake tools. */
class UserModeNetworkTest {
    @TempDir
    Path dir;

    private static final UserModeNetwork.Target PID = new UserModeNetwork.Target(4242, Optional.empty());

    @Test
    void pastaIsToldEachPortItsAddressAndNoAutomaticForwarding() {
        List<String> argv = UserModeNetwork.pastaArgv(Path.of("/usr/bin/pasta"), Path.of("/s/pasta.pid"), PID,
                List.of(PortMapping.parse("127.0.0.1:8080:80"), PortMapping.parse("9090:90"),
                        PortMapping.parse("[::1]:5353:53/udp")), false);
        assertThat(argv).containsExactly("/usr/bin/pasta", "--config-net", "--quiet", "--pid", "/s/pasta.pid",
                "-t", "127.0.0.1/8080:80", "-t", "9090:90", "-u", "::1/5353:53", "-T", "none", "-U", "none", "--dns-forward", "169.254.1.1", "4242");
    }

    @Test
    void pastaAsRootStaysRootAndJoinsThePin() {
        List<String> argv = UserModeNetwork.pastaArgv(Path.of("pasta"), Path.of("p"),
                new UserModeNetwork.Target(7, Optional.of(Path.of("/run/berth/c/netns"))), List.of(), true);
        assertThat(argv).containsExactly("pasta", "--config-net", "--quiet", "--pid", "p", "--runas", "0:0",
                "-t", "none", "-u", "none", "-T", "none", "-U", "none", "--dns-forward", "169.254.1.1", "--netns",
                "/run/berth/c/netns");
    }

    @Test
    void eachToolNamesItsDnsForwarder() {
        assertThat(UserModeNetwork.dnsForwarder(UserModeTool.PASTA)).isEqualTo("169.254.1.1");
        assertThat(UserModeNetwork.dnsForwarder(UserModeTool.SLIRP4NETNS)).isEqualTo("10.0.2.3");
        // slirp4netns's built-in one is on by default: no --disable-dns among its arguments
        assertThat(UserModeNetwork.slirpArgv(Path.of("slirp4netns"), Path.of("/s/api.sock"), PID))
                .noneMatch(a -> a.contains("dns"));
    }

    @Test
    void slirp4netnsJoinsThePidOrThePinAndConfiguresTap0() {
        assertThat(UserModeNetwork.slirpArgv(Path.of("slirp4netns"), Path.of("/s/api.sock"), PID))
                .containsExactly("slirp4netns", "--configure", "--mtu=65520", "--api-socket", "/s/api.sock", "4242",
                        "tap0");
        assertThat(UserModeNetwork.slirpArgv(Path.of("slirp4netns"), Path.of("/s/api.sock"),
                new UserModeNetwork.Target(7, Optional.of(Path.of("/s/netns"))))).containsSubsequence(
                        "--netns-type=path", "/s/netns", "tap0");
    }

    @Test
    void aHostfwdRequestIsJsonWithTheHostAddress() {
        assertThat(UserModeNetwork.hostfwd(PortMapping.parse("127.0.0.1:8080:80/udp"))).isEqualTo(
                "{\"execute\":\"add_hostfwd\",\"arguments\":{\"proto\":\"udp\",\"host_addr\":\"127.0.0.1\","
                        + "\"host_port\":8080,\"guest_port\":80}}");
    }

    @Test
    void aTakenPortIsRefusedByAddressPortAndProtocolAndPortZeroGetsAFreeOne() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int port = s.getLocalPort();
            assertThatThrownBy(() -> UserModeNetwork.choosePorts(List.of(PortMapping.parse("127.0.0.1:" + port + ":80"))))
                    .isInstanceOf(NetworkException.class).hasMessageStartingWith("bind 127.0.0.1:" + port + "/tcp: ");
            // udp is another port space
            assertThat(UserModeNetwork.choosePorts(List.of(PortMapping.parse("127.0.0.1:" + port + ":80/udp"))))
                    .extracting(PortMapping::hostPort).containsExactly(port);
        }
        assertThat(UserModeNetwork.choosePorts(List.of(PortMapping.parse("127.0.0.1::80"))).get(0).hostPort())
                .isPositive();
    }

    @Test
    void aPastaThatFailsGivesItsOwnErrorWithoutSyslogNoiseAndLeavesNothing() throws IOException {
        Path fake = script("pasta", "echo 'Failed to send 47 bytes to syslog' >&2\n"
                + "echo \"Couldn't open network namespace /proc/1/ns/net\" >&2\nexit 1\n");
        Path state = Files.createDirectory(dir.resolve("state"));
        assertThatThrownBy(() -> UserModeNetwork.start(UserModeTool.PASTA, fake, state, PID, List.of(),
                Duration.ofSeconds(10))).isInstanceOf(NetworkException.class)
                .hasMessage("network pasta: Couldn't open network namespace /proc/1/ns/net (exit 1)");
        assertEmpty(state);
    }

    @Test
    void aPastaThatNeverGetsReadyIsEndedWithTheDaemonItStarted() throws Exception {
        // daemonizes a sleeper that writes the pid file, then hangs in the foreground
        Path fake = script("pasta", "while [ \"$1\" != --pid ]; do shift; done\n"
                + "sleep 60 & echo $! > \"$2\"; echo $! > " + dir.resolve("daemon") + "\nexec sleep 60\n");
        Path state = Files.createDirectory(dir.resolve("state"));
        assertThatThrownBy(() -> UserModeNetwork.start(UserModeTool.PASTA, fake, state, PID, List.of(),
                Duration.ofMillis(700))).isInstanceOf(NetworkException.class)
                .hasMessage("network pasta: not ready after 700 ms");
        assertEmpty(state);
        long daemon = Long.parseLong(Files.readString(dir.resolve("daemon")).trim());
        // gone or a zombie its new parent has yet to reap
        assertThat(UserModeNetwork.startTime(daemon)).as("its daemon " + daemon).isEmpty();
    }

    @Test
    void aSlirp4netnsThatExitsGivesItsErrorAndLeavesNothing() throws IOException {
        Path fake = script("slirp4netns", "echo 'open(\"/proc/4242/ns/net\"): No such file or directory' >&2\nexit 1\n");
        Path state = Files.createDirectory(dir.resolve("state"));
        assertThatThrownBy(() -> UserModeNetwork.start(UserModeTool.SLIRP4NETNS, fake, state, PID, List.of(),
                Duration.ofSeconds(10))).isInstanceOf(NetworkException.class)
                .hasMessage("network slirp4netns: open(\"/proc/4242/ns/net\"): No such file or directory (exit 1)");
        assertEmpty(state);
    }

    @Test
    void aSlirp4netnsSocketPathTooLongForSunPathIsRefusedBeforeItStarts() throws IOException {
        Path deep = Files.createDirectories(dir.resolve("d".repeat(100)));
        assertThatThrownBy(() -> UserModeNetwork.start(UserModeTool.SLIRP4NETNS, Path.of("/bin/false"), deep, PID,
                List.of(), Duration.ofSeconds(1))).isInstanceOf(NetworkException.class)
                .hasMessageContaining("is longer than 107 bytes");
    }

    @Test
    void stopEndsOnlyTheSameProcessAndIsIdempotent() throws Exception {
        Process p = new ProcessBuilder("sleep", "60").start();
        long start = UserModeNetwork.startTime(p.pid()).orElseThrow();
        UserModeNetwork.Running r = new UserModeNetwork.Running("pasta", p.pid(), start + 1, null, List.of(), null, null);
        UserModeNetwork.stop(r); // another start time: another process, untouched
        assertThat(p.isAlive()).isTrue();
        UserModeNetwork.stop(new UserModeNetwork.Running("pasta", p.pid(), start, null, List.of(), null, null));
        assertThat(p.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        UserModeNetwork.stop(new UserModeNetwork.Running("pasta", p.pid(), start, null, List.of(), null, null));
    }

    @Test
    void toolsAreFoundOnThePathAndTheDefaultErrorNamesBothPackages() throws IOException {
        script("pasta", "exit 0\n");
        assertThat(UserModeTool.PASTA.find(dir.toString())).contains(dir.resolve("pasta"));
        assertThat(UserModeTool.of("slirp4netns")).contains(UserModeTool.SLIRP4NETNS);
        assertThat(UserModeTool.of("bridge")).isEmpty();
    }

    private Path script(String name, String body) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, "#!/bin/sh\n" + body);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwx------"));
        return p;
    }

    private static void assertEmpty(Path d) throws IOException {
        try (Stream<Path> s = Files.list(d)) {
            assertThat(s.toList()).as("left in " + d).isEmpty();
        }
    }
}
