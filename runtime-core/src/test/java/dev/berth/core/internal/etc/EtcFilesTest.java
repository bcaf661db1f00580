package dev.berth.core.internal.etc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.ContainerSpec;
import dev.berth.core.Namespace;
import dev.berth.core.internal.plan.ContainerView;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EtcFilesTest {
    @TempDir
    Path tmp;
    Path host;
    Path state;

    @BeforeEach
    void hostRoot() throws IOException {
        host = Files.createDirectories(tmp.resolve("host"));
        state = Files.createDirectories(tmp.resolve("state/c1"));
        Files.createDirectories(host.resolve("etc"));
        Files.createDirectories(host.resolve("proc/sys/kernel"));
        Files.writeString(host.resolve("etc/hosts"), "127.0.0.1 localhost\n10.0.0.7 buildhost\n");
        Files.writeString(host.resolve("etc/resolv.conf"), "nameserver 127.0.0.53\n");
        Files.writeString(host.resolve("proc/sys/kernel/hostname"), "buildhost\n");
    }

    private static ContainerSpec.Builder spec() {
        return ContainerSpec.builder().rootfs(Path.of("/r")).command("/bin/true");
    }

    @Test
    void writesThreePrivateToTheStateDirectoryReadableFilesMountedOnEtc() throws IOException {
        List<ContainerView.FileMount> m = new EtcFiles(host).write(state, spec().addHost("db", "10.0.0.5").build(), "c0ffee");
        assertThat(m).extracting(ContainerView.FileMount::target).containsExactly("/etc/hosts", "/etc/hostname",
                "/etc/resolv.conf");
        assertThat(m).extracting(ContainerView.FileMount::source).containsExactly(state.resolve("hosts").toString(),
                state.resolve("hostname").toString(), state.resolve("resolv.conf").toString());
        assertThat(state.resolve("hostname")).hasContent("c0ffee");
        assertThat(Files.readString(state.resolve("hosts"))).contains("10.0.0.5\tdb\n127.0.0.1\tc0ffee\n")
                .doesNotContain("buildhost");
        assertThat(Files.readString(state.resolve("resolv.conf"))).contains("nameserver 8.8.8.8");
        for (String f : EtcFiles.NAMES) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(state.resolve(f)))).isEqualTo("rw-r--r--");
        }
    }

    @Test
    void sharedNamespacesTakeTheHostsFilesAndName() throws IOException {
        new EtcFiles(host).write(state, spec().shareNamespace(Namespace.NETWORK).shareNamespace(Namespace.UTS).build(), "c0ffee");
        assertThat(state.resolve("hosts")).hasContent("127.0.0.1 localhost\n10.0.0.7 buildhost");
        assertThat(state.resolve("hostname")).hasContent("buildhost");
        assertThat(state.resolve("resolv.conf")).hasContent("nameserver 127.0.0.53");
    }

    @Test
    void missingOrOddHostFilesAreNoneAndHugeOnesFailTheStartSayingSo() throws Exception {
        Files.delete(host.resolve("etc/hosts"));
        Files.delete(host.resolve("etc/resolv.conf"));
        Files.delete(host.resolve("proc/sys/kernel/hostname"));
        Files.createDirectory(host.resolve("etc/resolv.conf"));                    // not a regular file
        new ProcessBuilder("mkfifo", host.resolve("etc/hosts").toString()).start().waitFor(); // would block a reader
        new EtcFiles(host).write(state, spec().shareNamespace(Namespace.NETWORK).shareNamespace(Namespace.UTS).build(), "x");
        assertThat(state.resolve("hosts")).content().doesNotContain("localhost");
        assertThat(state.resolve("hostname")).hasContent("localhost");
        assertThat(state.resolve("resolv.conf")).content().isEmpty();

        Files.delete(host.resolve("etc/hosts"));
        Files.write(host.resolve("etc/hosts"), new byte[EtcFiles.MAX_HOST_FILE + 1]);
        Path other = Files.createDirectories(tmp.resolve("state/c2"));
        assertThatThrownBy(() -> new EtcFiles(host).write(other, spec().shareNamespace(Namespace.NETWORK).build(), "x"))
                .isInstanceOf(IOException.class).hasMessageContaining("etc/hosts: longer than");
    }

    @Test
    void bytesPassThroughAndNothingIsWrittenThroughALinkOrOverAFile() throws IOException {
        byte[] latin = "127.0.0.1 localhost \u00e9\u00ff\n".getBytes(StandardCharsets.ISO_8859_1);
        Files.write(host.resolve("etc/hosts"), latin);
        new EtcFiles(host).write(state, spec().shareNamespace(Namespace.NETWORK).shareNamespace(Namespace.UTS).build(), "x");
        assertThat(Files.readAllBytes(state.resolve("hosts"))).isEqualTo(latin);
        Path other = Files.createDirectories(tmp.resolve("state/c3"));
        Path victim = Files.writeString(tmp.resolve("victim"), "keep");
        Files.createSymbolicLink(other.resolve("hosts"), victim);
        assertThatThrownBy(() -> new EtcFiles(host).write(other, spec().build(), "x"))
                .isInstanceOf(FileAlreadyExistsException.class);
        assertThat(victim).hasContent("keep");
    }

    @Test
    void aUserModeNetworksResolvConfNamesItsForwarderForALoopbackResolverOfTheFileItWasGiven() throws IOException {
        Files.writeString(host.resolve("etc/resolv.conf"), "nameserver 127.0.0.53\nsearch lan\n");
        new EtcFiles(host).write(state, spec().network("pasta").build(), "c0ffee");
        assertThat(Files.readString(state.resolve("resolv.conf"))).contains("nameserver 169.254.1.1\n", "search lan\n")
                .doesNotContain("127.0.0.53");
        Path other = Files.createDirectories(tmp.resolve("state/c2"));
        new EtcFiles(host).write(other, spec().network("slirp4netns").build(), "c0ffee");
        assertThat(Files.readString(other.resolve("resolv.conf"))).contains("nameserver 10.0.2.3\n");
        // a file named instead of the host root's: read from there
        Path named = Files.writeString(tmp.resolve("resolv.test"), "nameserver 10.1.2.3\nnameserver 127.0.0.1\n");
        Path third = Files.createDirectories(tmp.resolve("state/c3"));
        new EtcFiles(host, named).write(third, spec().network("pasta").build(), "c0ffee");
        assertThat(Files.readString(third.resolve("resolv.conf")).lines().filter(l -> l.startsWith("nameserver")))
                .containsExactly("nameserver 10.1.2.3", "nameserver 169.254.1.1");
        // no network of its own: no forwarder, the loopback stub dropped
        Path fourth = Files.createDirectories(tmp.resolve("state/c4"));
        new EtcFiles(host).write(fourth, spec().build(), "c0ffee");
        assertThat(Files.readString(fourth.resolve("resolv.conf"))).doesNotContain("169.254.1.1", "127.0.0.53");
    }
}
