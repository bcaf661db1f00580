package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class ContainerSpecTest {

    private static ContainerSpec.Builder valid() {
        return ContainerSpec.builder().rootfs(Path.of("/r")).command("/bin/true");
    }

    private static void rejects(Consumer<ContainerSpec.Builder> change, String field) {
        ContainerSpec.Builder b = valid();
        change.accept(b);
        assertThatThrownBy(b::build).isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith(field);
    }

    @Test
    void defaults() {
        ContainerSpec s = valid().build();
        assertThat(s.workingDir()).isEmpty();
        assertThat(s.user()).isEmpty();
        assertThat(s.resources().isEmpty()).isTrue();
        assertThat(s.image()).isEmpty();
        assertThat(s.noNewPrivileges()).isTrue();
        assertThat(Capability.mask(s.capabilities())).isEqualTo(0xa80425fbL);
        assertThat(s.namespaces()).containsExactlyInAnyOrder(Namespace.values());
        assertThat(s.stdin().kind()).isEqualTo(Stdio.Kind.NULL);
        assertThat(s.maskedPaths()).contains("/proc/kcore", "/sys/firmware");
        assertThat(s.readonlyPaths()).contains("/proc/sys", "/proc/sysrq-trigger");
    }

    @Test
    void validationNamesTheField() {
        rejects(b -> b.rootfs(null), "rootfs");
        rejects(b -> b.image("busybox:1"), "rootfs");          // both set
        rejects(b -> b.rootfs(null).image(" "), "image");
        rejects(b -> b.entrypoint("", "x"), "entrypoint[0]");
        rejects(b -> b.command(java.util.List.of()), "command");
        rejects(b -> b.command("a", "b\0c"), "command[1]");
        rejects(b -> b.command(""), "command[0]");
        rejects(b -> b.env("A=B", "x"), "env");
        rejects(b -> b.env("A", "x\0"), "env.A");
        rejects(b -> b.workingDir("relative"), "workingDir");
        rejects(b -> b.workingDir("/a/../b"), "workingDir");
        rejects(b -> b.user("a:b:c"), "user");
        rejects(b -> b.user(""), "user");
        rejects(b -> b.hostname("bad_host!"), "hostname");
        rejects(b -> b.hostname("x".repeat(65)), "hostname");
        rejects(b -> b.hostname("ok").shareNamespace(Namespace.UTS), "hostname");
        rejects(b -> b.shareNamespace(Namespace.MOUNT), "namespaces");
        rejects(b -> b.maskedPaths(java.util.List.of("proc/kcore")), "maskedPaths");
        rejects(b -> b.stdin(Stdio.append(Path.of("/x"))), "stdin");
        rejects(b -> b.addHost("db", "10.0.0.256"), "extraHosts[0].address");
        rejects(b -> b.addHost("ok", "::1").addHost("db", "db.example"), "extraHosts[1].address");
        rejects(b -> b.addHost("bad name", "10.0.0.1"), "extraHosts[0].name");
        rejects(b -> b.addHost("db\n10.6.6.6 bank", "10.0.0.1"), "extraHosts[0].name");
        rejects(b -> b.addHost("#db", "10.0.0.1"), "extraHosts[0].name");
        rejects(b -> b.addHost("x".repeat(254), "10.0.0.1"), "extraHosts[0].name");
        rejects(b -> b.extraHosts(java.util.Arrays.asList((ExtraHost) null)), "extraHosts[0]");
        rejects(b -> b.dns("1.1.1.1", "one.one"), "dns[1]");
        rejects(b -> b.dns("1.1.1.1\nnameserver 6.6.6.6"), "dns[0]");
        rejects(b -> b.dns("fe80::1%eth0"), "dns[0]");
        rejects(b -> b.dnsSearch("a b"), "dnsSearch[0]");
        rejects(b -> b.dnsSearch("ok.example", ".."), "dnsSearch[1]");
        rejects(b -> b.dnsSearch(".", "corp.example"), "dnsSearch[0]");
        rejects(b -> b.dnsSearch("corp.example\noptions debug"), "dnsSearch[0]");
        rejects(b -> b.dnsOptions("ndots:2", "a b"), "dnsOptions[1]");
        rejects(b -> b.dnsOptions("#"), "dnsOptions[0]");
        rejects(b -> b.dnsOptions(""), "dnsOptions[0]");
        assertThatThrownBy(() -> valid().addHost(null, "10.0.0.1")).hasMessageContaining("extraHosts");
    }

    @Test
    void resolverSettingsAreKeptAndCopied() {
        ContainerSpec s = valid().addHost("db", "10.0.0.5").addHost("db", "fd00::5").dns("1.1.1.1", "2606:4700:4700::1111")
                .dnsSearch("corp.example", "example.org.").dnsOptions("ndots:2", "edns0").build();
        assertThat(s.extraHosts()).containsExactly(new ExtraHost("db", "10.0.0.5"), new ExtraHost("db", "fd00::5"));
        assertThat(s.dns()).containsExactly("1.1.1.1", "2606:4700:4700::1111");
        assertThat(s.dnsSearch()).containsExactly("corp.example", "example.org.");
        assertThat(s.dnsOptions()).containsExactly("ndots:2", "edns0");
        ContainerSpec copy = s.toBuilder().addHost("cache", "10.0.0.6").build();
        assertThat(copy.extraHosts()).hasSize(3);
        assertThat(s.extraHosts()).hasSize(2);
        assertThat(copy.dns()).isEqualTo(s.dns());
        assertThat(valid().dnsSearch(".").build().dnsSearch()).containsExactly(".");
        ContainerSpec d = valid().build();
        assertThat(d.extraHosts()).isEmpty();
        assertThat(d.dns()).isEmpty();
        assertThat(d.dnsSearch()).isEmpty();
        assertThat(d.dnsOptions()).isEmpty();
    }

    @Test
    void aTerminalIsTheStdioOfItsContainer() {
        ContainerSpec t = valid().tty(true).consoleSize(120, 40).build();
        assertThat(t.tty()).isTrue();
        assertThat(t.consoleSize()).isEqualTo(new TerminalSize(120, 40));
        assertThat(valid().tty(true).build().consoleSize()).isEqualTo(new TerminalSize(80, 24));
        assertThat(valid().build().tty()).isFalse();
        // with a terminal, the streams are the terminal's: setting one is a mistake, named
        rejects(b -> b.tty(true).stdout(Stdio.pipe()), "stdout");
        rejects(b -> b.stdin(Stdio.inherit()).tty(true), "stdin");
        rejects(b -> b.tty(true).stderr(Stdio.inherit()), "stderr");
        assertThatThrownBy(() -> valid().consoleSize(-1, 24)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("terminal size: columns and rows must be 0..65535, got -1x24");
        assertThatThrownBy(() -> valid().consoleSize(80, 65536)).isInstanceOf(IllegalArgumentException.class);
        // toBuilder keeps the terminal, and a spec with default streams may get one later
        assertThat(t.toBuilder().build().consoleSize()).isEqualTo(new TerminalSize(120, 40));
        assertThat(valid().build().toBuilder().tty(true).build().tty()).isTrue();
        assertThat(t.toBuilder().tty(false).stdout(Stdio.pipe()).build().stdout()).isEqualTo(Stdio.pipe());
        assertThat(t.stdin()).isEqualTo(Stdio.discard());
    }

    @Test
    void anImageSpecMayLeaveTheCommandToTheImage() {
        ContainerSpec s = ContainerSpec.builder().image("app:1").build();
        assertThat(s.image()).hasValue("app:1");
        assertThat(s.rootfs()).isEmpty();
        assertThat(s.command()).isEmpty();
        assertThat(s.toBuilder().build().image()).hasValue("app:1");
    }

    @Test
    void rlimitsAreValidated() {
        assertThatThrownBy(() -> Rlimit.of(Rlimit.Type.NOFILE, 10, 5)).hasMessageContaining("rlimit NOFILE");
        assertThatThrownBy(() -> Rlimit.of(Rlimit.Type.NOFILE, -2, 5)).hasMessageContaining("rlimit NOFILE");
        assertThat(Rlimit.Type.parse("RLIMIT_NOFILE").resource()).isEqualTo(7);
        assertThatThrownBy(() -> Rlimit.Type.parse("nofiles")).hasMessageStartingWith("rlimit");
    }

    @Test
    void capabilitiesParseAndMask() {
        assertThat(Capability.parse("cap_net_raw")).isEqualTo(Capability.NET_RAW);
        assertThat(Capability.parse("SYS_ADMIN").bit()).isEqualTo(21);
        assertThat(Capability.CHECKPOINT_RESTORE.bit()).isEqualTo(40);
        assertThatThrownBy(() -> Capability.parse("CAP_FLY")).hasMessageStartingWith("capability");
        assertThat(Capability.fromMask(0xa80425fbL)).isEqualTo(Capability.dockerDefaults());
    }

    @Test
    void toBuilderRoundTrips() {
        ContainerSpec s = valid().env("A", "1").hostname("h").user("alice").rlimit(Rlimit.Type.CORE, 0, 0)
                .dropCapabilities(Capability.NET_RAW).build();
        ContainerSpec t = s.toBuilder().build();
        assertThat(t.env()).isEqualTo(s.env());
        assertThat(t.hostname()).isEqualTo(s.hostname());
        assertThat(t.capabilities()).isEqualTo(s.capabilities()).doesNotContain(Capability.NET_RAW);
        assertThat(t.rlimits()).isEqualTo(s.rlimits());
    }

    @Test
    void exitStatusShellCode() {
        assertThat(ExitStatus.exited(3).shellCode()).isEqualTo(3);
        assertThat(ExitStatus.killed(9).shellCode()).isEqualTo(137);
        assertThat(ExitStatus.killed(9).terminatingSignal()).hasValue(9);
        assertThatThrownBy(() -> new ExitStatus(1, 9, false)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void mountsAreValidatedNamingTheirIndexAndField() {
        Path src = Path.of("/srv/data");
        rejects(b -> b.mount(Mount.tmpfs("/ok")).mount(Mount.bind(src, "data")), "mounts[1].destination");
        for (String d : new String[] {"/", "/proc", "/sys", "/dev", "/a/../b", "/a//b", "/a/", "/a/.", "/a\0b"}) {
            rejects(b -> b.mount(Mount.bind(src, d)), "mounts[0].destination");
        }
        rejects(b -> b.mount(Mount.tmpfs("/x")).mount(Mount.bind(src, "/x")), "mounts[1].destination: /x is mounts[0]'s");
        rejects(b -> b.mount(Mount.bind(src, "/proc/sys")), "mounts[0].destination: /proc/sys is inside the container's /proc;"
                + " only /proc/cpuinfo, /proc/diskstats");
        rejects(b -> b.mount(Mount.tmpfs("/proc/self/attr")), "mounts[0].destination: /proc/self/attr is inside");
        rejects(b -> b.mount(Mount.bind(Path.of("relative"), "/x")), "mounts[0].source");
        rejects(b -> b.mount(Mount.volume("-bad", "/x")), "mounts[0].source");
        rejects(b -> b.mount(Mount.volume("a/b", "/x")), "mounts[0].source");
        rejects(b -> b.mount(new Mount("/x", Mount.Type.TMPFS, "/host", java.util.List.of())), "mounts[0].source");
        rejects(b -> b.mount(Mount.bind(src, "/x", "nocopy")), "mounts[0].options: \"nocopy\" is not an option of a bind");
        rejects(b -> b.mount(Mount.tmpfs("/x", "size=big")), "mounts[0].options");
        ContainerSpec ok = valid().mount(Mount.bind(src, "/proc2", "ro")).mount(Mount.volume("my_vol.1", "/dev/shm"))
                .mount(Mount.tmpfs("/run", "size=64m")).mount(Mount.bind(src, "/proc/meminfo")).build();
        assertThat(ok.mounts()).hasSize(4);
        assertThat(ok.toBuilder().build().mounts()).isEqualTo(ok.mounts());
        assertThat(ok.mounts().get(1).type().ociName()).isEqualTo("volume");
    }
}
