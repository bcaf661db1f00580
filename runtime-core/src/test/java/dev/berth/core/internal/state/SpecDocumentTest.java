package dev.berth.core.internal.state;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.cgroups.DeviceRule;
import dev.berth.cgroups.DeviceThrottle;
import dev.berth.cgroups.Resources;
import dev.berth.core.Capability;
import dev.berth.core.ContainerSpec;
import dev.berth.core.Device;
import dev.berth.core.Mount;
import dev.berth.core.Namespace;
import dev.berth.core.Rlimit;
import dev.berth.core.Stdio;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A spec survives the state file: written, read back, the same spec (and the same bytes again). */
class SpecDocumentTest {

    private static ContainerSpec everything() {
        return ContainerSpec.builder()
                .image("registry.example/app:1.2")
                .entrypoint("/bin/sh", "-c")
                .command("echo \"$A\"; exit 3")
                .env(Map.of("A", "1 2", "B", "ü=ö"))
                .workingDir("/srv")
                .user("1000:1000")
                .hostname("web-1")
                .rlimit(Rlimit.Type.NOFILE, 1024, 4096)
                .rlimit(Rlimit.Type.CORE, 0, Rlimit.UNLIMITED)
                .dropCapabilities(Capability.NET_RAW)
                .addCapabilities(Capability.SYS_PTRACE)
                .noNewPrivileges(false)
                .readonlyRootfs(true)
                .shareNamespace(Namespace.NETWORK)
                .maskedPaths(List.of("/proc/kcore"))
                .readonlyPaths(List.of("/proc/sys"))
                .stdin(Stdio.pipe())
                .stdout(Stdio.file(Path.of("/var/log/out")))
                .stderr(Stdio.append(Path.of("/var/log/err")))
                .resources(Resources.builder().cpus(1.5).cpuShares(512).memoryMax(64L << 20).memorySwap(128L << 20)
                        .memoryHigh(60L << 20).pidsMax(100).ioWeight(200).cpusetCpus("0-1")
                        .deviceThrottle(DeviceThrottle.readBps(8, 0, 1 << 20))
                        .deviceRule(DeviceRule.allow(DeviceRule.Type.CHAR, 10, 200, "rw"))
                        .unified("memory.oom.group", "1").build())
                .device(Device.character("/dev/net/tun", 10, 200).withOwner(1000, 1000))
                .mount(Mount.bind(Path.of("/srv/data"), "/data", "ro", "nosuid"))
                .mount(Mount.volume("cache", "/cache", "nocopy"))
                .mount(Mount.tmpfs("/run", "size=64m"))
                .addHost("db", "10.0.0.2")
                .dns("1.1.1.1")
                .dnsSearch("example.org")
                .dnsOptions("ndots:2")
                .build();
    }

    @Test
    void everyFieldSurvivesTheRoundTrip() throws Exception {
        ContainerSpec spec = everything();
        StateDocument doc = state(SpecDocument.of(spec));
        ContainerSpec back = StateJson.read(StateJson.write(doc)).spec().toSpec();

        assertThat(back.image()).isEqualTo(spec.image());
        assertThat(back.rootfs()).isEmpty();
        assertThat(back.entrypoint()).isEqualTo(spec.entrypoint());
        assertThat(back.command()).isEqualTo(spec.command());
        assertThat(back.env()).containsExactlyEntriesOf(spec.env());
        assertThat(back.workingDir()).isEqualTo(spec.workingDir());
        assertThat(back.user()).isEqualTo(spec.user());
        assertThat(back.hostname()).isEqualTo(spec.hostname());
        assertThat(back.rlimits()).containsExactlyElementsOf(spec.rlimits());
        assertThat(back.capabilities()).isEqualTo(spec.capabilities());
        assertThat(back.noNewPrivileges()).isFalse();
        assertThat(back.readonlyRootfs()).isTrue();
        assertThat(back.namespaces()).isEqualTo(spec.namespaces()).doesNotContain(Namespace.NETWORK);
        assertThat(back.maskedPaths()).isEqualTo(spec.maskedPaths());
        assertThat(back.readonlyPaths()).isEqualTo(spec.readonlyPaths());
        assertThat(back.stdin()).isEqualTo(Stdio.pipe());
        assertThat(back.stdout()).isEqualTo(spec.stdout());
        assertThat(back.stderr()).isEqualTo(spec.stderr());
        assertThat(back.resources()).isEqualTo(spec.resources());
        assertThat(back.devices()).containsExactlyElementsOf(spec.devices());
        assertThat(back.mounts()).containsExactlyElementsOf(spec.mounts());
        assertThat(back.extraHosts()).containsExactlyElementsOf(spec.extraHosts());
        assertThat(back.dns()).isEqualTo(spec.dns());
        assertThat(back.dnsSearch()).isEqualTo(spec.dnsSearch());
        assertThat(back.dnsOptions()).isEqualTo(spec.dnsOptions());
        // stable: the spec read back writes the same bytes
        assertThat(new String(StateJson.write(state(SpecDocument.of(back)))))
                .isEqualTo(new String(StateJson.write(doc)));
    }

    @Test
    void aDirectoryRootWithATerminalAndDefaults() throws Exception {
        ContainerSpec spec = ContainerSpec.builder().rootfs(Path.of("/srv/rootfs")).command("/bin/sh").tty(true)
                .consoleSize(120, 40).build();
        ContainerSpec back = StateJson.read(StateJson.write(state(SpecDocument.of(spec)))).spec().toSpec();
        assertThat(back.rootfs()).contains(Path.of("/srv/rootfs"));
        assertThat(back.image()).isEmpty();
        assertThat(back.entrypoint()).isEmpty();
        assertThat(back.tty()).isTrue();
        assertThat(back.consoleSize().columns()).isEqualTo(120);
        assertThat(back.seccomp().name()).isEqualTo("default");
        assertThat(back.seccomp().isConfined()).isTrue();
        assertThat(back.capabilities()).isEqualTo(Capability.dockerDefaults());
        assertThat(back.namespaces()).containsExactlyInAnyOrder(Namespace.values());
        assertThat(back.maskedPaths()).isEqualTo(ContainerSpec.DEFAULT_MASKED_PATHS);
        assertThat(back.resources()).isEqualTo(Resources.none());
    }

    @Test
    void theSeccompProfileSurvivesTheRoundTripAndAStateWithoutOneMeansTheDefault() throws Exception {
        String json = "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"keyctl\"],"
                + "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":38}]}";
        ContainerSpec custom = ContainerSpec.builder().image("busybox").seccomp(dev.berth.core.Seccomp.profile("mine.json", json))
                .build();
        ContainerSpec back = StateJson.read(StateJson.write(state(SpecDocument.of(custom)))).spec().toSpec();
        assertThat(back.seccomp().name()).isEqualTo("mine.json");
        assertThat(back.seccomp().profileJson()).contains(json);
        ContainerSpec open = ContainerSpec.builder().image("busybox").seccomp(dev.berth.core.Seccomp.unconfined()).build();
        assertThat(StateJson.read(StateJson.write(state(SpecDocument.of(open)))).spec().toSpec().seccomp().isConfined())
                .isFalse();
        SpecDocument d = SpecDocument.of(ContainerSpec.builder().image("busybox").build());
        SpecDocument before = new SpecDocument(1, d.rootfs(), d.image(), d.entrypoint(), d.command(), d.env(),
                d.workingDir(), d.user(), d.hostname(), d.rlimits(), d.capabilities(), d.noNewPrivileges(),
                d.readonlyRootfs(), d.namespaces(), d.maskedPaths(), d.readonlyPaths(), d.stdin(), d.stdout(),
                d.stderr(), d.resources(), d.devices(), d.mounts(), d.tty(), d.consoleSize(), d.extraHosts(), d.dns(),
                d.dnsSearch(), d.dnsOptions(), null);
        assertThat(before.toSpec().seccomp().name()).isEqualTo("default");
        SpecDocument odd = new SpecDocument(1, d.rootfs(), d.image(), d.entrypoint(), d.command(), d.env(),
                d.workingDir(), d.user(), d.hostname(), d.rlimits(), d.capabilities(), d.noNewPrivileges(),
                d.readonlyRootfs(), d.namespaces(), d.maskedPaths(), d.readonlyPaths(), d.stdin(), d.stdout(),
                d.stderr(), d.resources(), d.devices(), d.mounts(), d.tty(), d.consoleSize(), d.extraHosts(), d.dns(),
                d.dnsSearch(), d.dnsOptions(), new SpecDocument.SeccompDoc("lax", null, null));
        assertThatThrownBy(odd::toSpec).hasMessage("seccomp.kind: \"lax\" is not default, unconfined or profile");
    }

    @Test
    void anEmptyEntrypointIsNotAnAbsentOne() throws Exception {
        ContainerSpec spec = ContainerSpec.builder().image("busybox").entrypoint(List.of()).command("true").build();
        ContainerSpec back = StateJson.read(StateJson.write(state(SpecDocument.of(spec)))).spec().toSpec();
        assertThat(back.entrypoint()).contains(List.of());
    }

    @Test
    void noHealthCheckSurvivesTheRoundTripAndAHealthCheckClearsIt() throws Exception {
        ContainerSpec off = ContainerSpec.builder().image("busybox").noHealthCheck().build();
        ContainerSpec back = StateJson.read(StateJson.write(state(SpecDocument.of(off)))).spec().toSpec();
        assertThat(back.healthCheckDisabled()).isTrue();
        assertThat(back.healthCheck()).isEmpty();
        ContainerSpec on = ContainerSpec.builder().image("busybox").noHealthCheck()
                .healthCheck(dev.berth.core.HealthCheck.builder().shell("true").build()).build();
        assertThat(on.healthCheckDisabled()).as("the last word wins").isFalse();
        assertThat(StateJson.read(StateJson.write(state(SpecDocument.of(on)))).spec().toSpec().healthCheck()).isPresent();
        assertThat(ContainerSpec.builder().image("busybox").build().healthCheckDisabled()).isFalse();
    }

    @Test
    void theTargetsArgvIsKeptForListingAndAbsentInOlderStates() throws Exception {
        StateDocument withArgv = new StateDocument(StateDocument.SCHEMA, "web-1", "running", null, null, List.of(),
                "busybox", null, null, "2026-12-01T23:30:00Z", null, null, null, 0, "healthy", null,
                new StateDocument.ControlDoc(15, null, List.of("sh", "-c", "sleep 1")));
        StateDocument back = StateJson.read(StateJson.write(withArgv));
        assertThat(back.control().argv()).containsExactly("sh", "-c", "sleep 1");
        assertThat(back.health()).isEqualTo("healthy");
        StateDocument older = StateJson.read(("{\"schema\":\"berth.state/v1\",\"id\":\"web-1\",\"status\":\"running\","
                + "\"cgroup\":[],\"restartCount\":0,\"control\":{\"stopSignal\":15}}").getBytes(
                        java.nio.charset.StandardCharsets.UTF_8));
        assertThat(older.control().argv()).isNull();
    }

    @Test
    void aNewerVersionOrAnInvalidValueIsRefusedNamingTheField() {
        SpecDocument d = SpecDocument.of(ContainerSpec.builder().image("busybox").build());
        SpecDocument newer = new SpecDocument(2, d.rootfs(), d.image(), d.entrypoint(), d.command(), d.env(),
                d.workingDir(), d.user(), d.hostname(), d.rlimits(), d.capabilities(), d.noNewPrivileges(),
                d.readonlyRootfs(), d.namespaces(), d.maskedPaths(), d.readonlyPaths(), d.stdin(), d.stdout(),
                d.stderr(), d.resources(), d.devices(), d.mounts(), d.tty(), d.consoleSize(), d.extraHosts(), d.dns(),
                d.dnsSearch(), d.dnsOptions(), d.seccomp());
        assertThatThrownBy(newer::toSpec).hasMessage("spec.version: 2 is not a version this Berth reads (1)");
        SpecDocument relative = new SpecDocument(1, d.rootfs(), d.image(), d.entrypoint(), d.command(), d.env(),
                "srv", d.user(), d.hostname(), d.rlimits(), d.capabilities(), d.noNewPrivileges(),
                d.readonlyRootfs(), d.namespaces(), d.maskedPaths(), d.readonlyPaths(), d.stdin(), d.stdout(),
                d.stderr(), d.resources(), d.devices(), d.mounts(), d.tty(), d.consoleSize(), d.extraHosts(), d.dns(),
                d.dnsSearch(), d.dnsOptions(), d.seccomp());
        assertThatThrownBy(relative::toSpec).hasMessageStartingWith("workingDir:");
    }

    static StateDocument state(SpecDocument spec) {
        return new StateDocument(StateDocument.SCHEMA, "web-1", "running", new StateDocument.ProcessDoc(10, 20),
                new StateDocument.ProcessDoc(9, 19), List.of("/sys/fs/cgroup/memory/berth/web-1"), spec.image(),
                spec.rootfs(), spec, "2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z", null, null, 0, null, null, null);
    }
}
