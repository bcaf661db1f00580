package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.Preflight.Check;
import dev.berth.core.Preflight.Status;
import dev.berth.core.internal.linux.LinuxSyscalls;
import dev.berth.core.internal.user.IdRangeAllocator;
import dev.berth.testing.RequiresRoot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real preflight on this project's machines (docs/preflight.md; ../reference/facts.md). */
@RequiresRoot
class PreflightIT {

    @TempDir
    Path tmp;

    private static Check check(Preflight.Report r, String name) {
        return r.check(name).orElseThrow();
    }

    @Test
    void reportsWhatThisMachineHasAndLeavesNothingBehind() throws IOException {
        Files.writeString(tmp.resolve("subuid"), "containers:2147483647:2147483648\n");
        Files.writeString(tmp.resolve("subgid"), "root:100000:65536\n");
        long mountsBefore = Files.readAllLines(Path.of("/proc/self/mountinfo")).size();
        Preflight.run(tmp.resolve("storage/not/yet"), tmp.resolve("subuid"), tmp.resolve("subgid")); // classes loaded
        long fdsBefore = fds();
        Preflight.Report r = Preflight.run(tmp.resolve("storage/not/yet"), tmp.resolve("subuid"), tmp.resolve("subgid"));

        assertThat(r.rootless()).isFalse();
        assertThat(check(r, Preflight.ROOTLESS).found()).isEqualTo("false (euid 0)");
        // facts.md: Linux 6.18, hybrid cgroups (v1 controllers, a v2 hierarchy at /sys/fs/cgroup/unified)
        assertThat(check(r, Preflight.KERNEL)).isEqualTo(Check.ok(Preflight.KERNEL, Preflight.Section.HOST,
                System.getProperty("os.version")));
        assertThat(check(r, Preflight.KERNEL).found()).startsWith("6.18");
        Check cgroups = check(r, Preflight.CGROUPS);
        assertThat(cgroups.status()).isEqualTo(Status.WARNING);
        assertThat(cgroups.found()).startsWith("hybrid: v1 controllers").contains("memory", "pids", "cpu",
                "; v2 at /sys/fs/cgroup/unified (controllers: ");
        assertThat(check(r, Preflight.CGROUP_DELEGATION).found()).isEqualTo("not needed (rootful)");
        // user namespaces and overlay work; seccomp has user notification
        assertThat(check(r, Preflight.USER_NAMESPACES).status()).isEqualTo(Status.OK);
        String max;
        try (java.io.InputStream in = Files.newInputStream(Path.of("/proc/sys/user/max_user_namespaces"))) {
            max = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).strip();
        }
        assertThat(Long.parseLong(max)).isGreaterThan(9); // a sysctl file read whole, not its first byte
        assertThat(check(r, Preflight.USER_NAMESPACES).found()).isEqualTo("max_user_namespaces " + max);
        assertThat(check(r, Preflight.OVERLAY).status()).isEqualTo(Status.OK);
        assertThat(check(r, Preflight.SECCOMP).status()).isEqualTo(Status.OK);
        assertThat(check(r, Preflight.SECCOMP).found()).contains("user_notif");
        // the real probe: an idmapped copy of a directory of uid 1234, seen through a namespace mapping 0 alone
        Check idmap = check(r, Preflight.IDMAPPED_MOUNTS);
        assertThat(idmap.status()).as(idmap.toString()).isEqualTo(Status.OK);
        assertThat(idmap.found()).isEqualTo("works on ext4 (" + tmp + "): uid 1234 shows as 65534 through a mount"
                + " mapping uid 0 alone");
        assertThat(check(r, Preflight.CNI_PLUGINS).found()).startsWith("/usr/lib/cni (bridge host-local portmap");
        // the files given, not /etc's
        assertThat(check(r, Preflight.AUTO_SUBORDINATE_IDS)).isEqualTo(Check.of(Preflight.AUTO_SUBORDINATE_IDS,
                Preflight.Section.SECURITY, Status.WARNING, "containers: 2147483647-4294967294 in " + tmp.resolve("subuid")
                        + "; none in " + tmp.resolve("subgid") + ": --userns=auto has no ids to allocate",
                "add the line \"containers:2147483647:2147483648\" to " + tmp.resolve("subgid")
                        + " (podman's recommendation)"));
        assertThat(check(r, Preflight.SUBORDINATE_IDS).found()).isEqualTo("root: none in " + tmp.resolve("subuid")
                + "; 100000-165535 in " + tmp.resolve("subgid") + " (not needed rootful)");

        // nothing left: no probe directory, no mount, no namespace holder
        try (Stream<Path> s = Files.list(tmp)) {
            assertThat(s.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("subuid", "subgid");
        }
        assertThat(Files.readAllLines(Path.of("/proc/self/mountinfo")).size()).isEqualTo(mountsBefore);
        assertThat(fds()).isEqualTo(fdsBefore);
        assertThat(ProcessHandle.current().children().filter(ProcessHandle::isAlive)
                .map(p -> p.info().command().orElse("")).filter(c -> c.contains("unshare") || c.contains("sleep")))
                .isEmpty();
    }

    private static long fds() throws IOException {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        }
    }

    @Test
    void theRuntimeReportsItsOwnFilesAndDropsRangesOfContainersThatAreGone() throws IOException {
        Path state = Files.createDirectories(tmp.resolve("state"));
        Path subuid = Files.writeString(tmp.resolve("subuid"), "containers:300000:100000\n");
        Path subgid = Files.writeString(tmp.resolve("subgid"), "containers:300000:100000\n");
        IdRangeAllocator ranges = new IdRangeAllocator(state, subuid, subgid, new LinuxSyscalls());
        Files.createDirectories(state.resolve("live"));
        // "live" is another live runtime's: it holds the id's lock
        dev.berth.core.internal.state.IdLock held = dev.berth.core.internal.state.IdLock.tryAcquire(new LinuxSyscalls(),
                state.resolve(".live.lock"));
        UserNamespace live = ranges.allocate("live", UserNamespace.auto(), List.of());
        ranges.allocate("gone", UserNamespace.auto(5000), List.of());
        assertThat(live.uidMap()).containsExactly(IdMapping.of(0, 300000, 1024));
        try (ContainerRuntime runtime = ContainerRuntime.builder().stateRoot(state).storageRoot(tmp.resolve("storage"))
                .cgroups(false).subordinateIds(subuid, subgid).build()) {
            // built with reconcile on: "gone" has neither a state directory nor a lock file
            assertThat(ranges.allocations()).extracting(IdRangeAllocator.Allocation::id).containsExactly("live");
            assertThat(runtime.list()).isEmpty(); // the records' directory is no container
            Preflight.Report r = runtime.preflight();
            assertThat(check(r, Preflight.AUTO_SUBORDINATE_IDS).found()).isEqualTo("containers: 300000-399999 in "
                    + subuid + "; 300000-399999 in " + subgid
                    + " (rootful --userns=auto gives each container a range of its own from them)");
        } finally {
            held.close();
        }
    }
}
