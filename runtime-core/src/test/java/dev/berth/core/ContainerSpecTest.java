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
}
