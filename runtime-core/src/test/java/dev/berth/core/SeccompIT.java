package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.testing.ContainerTestSupport;
import dev.berth.core.testing.TestRootfs;
import dev.berth.testing.RequiresRoot;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The seccomp filter a container runs under: Docker's default, a profile of one's own, or none. */
@RequiresRoot
class SeccompIT extends ContainerTestSupport {

    @Test
    void theDefaultFilterRefusesWhatDockersProfileRefuses() throws Exception {
        String out = run(probe("syscall", "keyctl", "--", "syscall", "add_key", "--", "syscall", "request_key",
                "--", "syscall", "bpf", "--", "syscall", "perf_event_open", "--", "syscall", "kexec_load",
                "--", "syscall", "open_by_handle_at", "--", "syscall", "umount2", "--", "unshare", "user",
                "--", "unshare", "mount", "--", "mount-tmpfs", "/tmp", "--", "socket", "40")).stdout();
        assertThat(out.lines()).containsExactly(
                "keyctl: Operation not permitted",
                "add_key: Operation not permitted",
                "request_key: Operation not permitted",
                "bpf: Operation not permitted",
                "perf_event_open: Operation not permitted",
                "kexec_load: Operation not permitted",
                "open_by_handle_at: Operation not permitted",
                "umount2: Operation not permitted",
                "unshare: Operation not permitted",
                "unshare: Operation not permitted",
                "mount: Operation not permitted",
                "socket: Operation not permitted");
    }

    @Test
    void clone3IsEnosysSoThatLibcFallsBackAndOrdinaryWorkRuns() throws Exception {
        String out = output("clone3", "--", "libc-fork", "--", "personality", "0", "--", "personality", "0xffffffff",
                "--", "personality", "0x0040000", "--", "socket", "2", "--", "syscall", "getpid", "--", "x32",
                "--", "mkdir", "/tmp/made", "--", "stat", "/tmp/made");
        List<String> lines = out.lines().toList();
        assertThat(lines.get(0)).isEqualTo("clone3: Function not implemented");
        assertThat(lines.get(1)).isEqualTo("fork: ok 7");
        assertThat(lines.get(2)).startsWith("personality: ok");
        assertThat(lines.get(3)).startsWith("personality: ok");
        assertThat(lines.get(4)).as("ADDR_NO_RANDOMIZE").isEqualTo("personality: Operation not permitted");
        assertThat(lines.get(5)).startsWith("socket: ok");
        assertThat(lines.get(6)).isEqualTo("getpid: ok 2");
        assertThat(lines.get(7)).isEqualTo("x32 getpid: Function not implemented");
    }

    @Test
    void aDefaultContainerCanNeitherReadNorPlantKeysInTheHostRootsKeyring() throws Exception {
        String secret = "berth-host-" + UUID.randomUUID();
        String planted = "berth-planted-" + UUID.randomUUID();
        assertThat(host("add-key", secret, "s3cret")).startsWith("add_key: ok");
        try {
            // the hole: without a filter the container's root shares the host root's user keyring
            assertThat(run(probe("read-key", secret).seccomp(Seccomp.unconfined())).stdout()).isEqualTo("key: s3cret\n");
            assertThat(run(probe("read-key", secret)).stdout()).isEqualTo("keyctl: Operation not permitted\n");
            assertThat(run(probe("add-key", planted, "evil")).stdout()).isEqualTo("add_key: Operation not permitted\n");
            assertThat(host("read-key", planted)).isEqualTo("keyctl: Required key not available\n");
        } finally {
            host("revoke-key", secret);
            host("revoke-key", planted);
        }
    }

    @Test
    void capSysAdminGetsMountAndNamespacesAsUnderDocker() throws Exception {
        String out = run(probe("mount-tmpfs", "/tmp", "--", "unshare", "mount", "--", "clone3", "--", "syscall",
                "keyctl").addCapabilities(Capability.SYS_ADMIN)).stdout();
        assertThat(out.lines()).containsExactly("mount: ok 0", "unshare: ok 0", "clone3: ok 0",
                "keyctl: Operation not permitted");
    }

    @Test
    void unconfinedHasNoFilter() throws Exception {
        String out = run(probe("status", "--", "clone3", "--", "unshare", "user").seccomp(Seccomp.unconfined())).stdout();
        assertThat(out).contains("Seccomp:\t0").contains("clone3: ok 0").contains("unshare: ok 0");
        assertThat(output("status")).contains("Seccomp:\t2");
    }

    @Test
    void aCustomProfilesErrnoIsReturned() throws Exception {
        Path file = Files.writeString(tmp.resolve("deny-mkdir.json"), """
                {"defaultAction": "SCMP_ACT_ALLOW",
                 "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 122}]}""");
        String out = run(probe("mkdir", "/tmp/x", "--", "syscall", "keyctl").seccomp(Seccomp.profile(file))).stdout();
        List<String> lines = out.lines().toList();
        assertThat(lines.get(0)).isEqualTo("mkdir /tmp/x: Disk quota exceeded");
        assertThat(lines.get(1)).as("what the profile does not name, it allows").startsWith("keyctl: ok");
    }

    @Test
    void aProfileThatRefusesTheExecFailsTheStartNamingIt() {
        Seccomp noExec = Seccomp.profile("no-exec.json", """
                {"defaultAction": "SCMP_ACT_ALLOW",
                 "syscalls": [{"names": ["execve", "execveat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}""");
        assertThatThrownBy(() -> run(probe("true").seccomp(noExec))).isInstanceOf(ContainerStartException.class)
                .hasMessageContaining("Permission denied");
    }

    @Test
    void withoutNoNewPrivilegesTheFilterStillApplies() throws Exception {
        String out = run(probe("status", "--", "syscall", "keyctl").noNewPrivileges(false).user("1000:1000")).stdout();
        assertThat(out).contains("NoNewPrivs:\t0").contains("Seccomp:\t2").contains("keyctl: Operation not permitted");
    }

    @Test
    void aListenerSeesTheContainersMountAttemptsAndAnswersThem() throws Exception {
        List<SeccompNotification> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        List<String> threads = new java.util.concurrent.CopyOnWriteArrayList<>();
        Seccomp audited = Seccomp.defaultProfile().withListener(java.util.Set.of("mount", "umount2"), call -> {
            seen.add(call);
            threads.add(Thread.currentThread().getName());
            // refuse a tmpfs on /tmp with "Read-only file system"; let everything else run (and the kernel decide)
            return call.syscall().equals("mount") ? SeccompResponse.errno(30) : SeccompResponse.continueSyscall();
        });
        String out = run(probe("mount-tmpfs", "/tmp", "--", "syscall", "umount2", "--", "syscall", "keyctl")
                .seccomp(audited)).stdout();
        assertThat(out.lines()).containsExactly("mount: Read-only file system",
                "umount2: No such file or directory", // continued: the kernel ran it, and found no such mount point
                "keyctl: Operation not permitted");  // the rest of the profile holds
        assertThat(seen).hasSize(2);
        assertThat(seen.get(0).syscall()).isEqualTo("mount");
        assertThat(seen.get(0).pid()).isPositive();
        assertThat(seen.get(0).arguments()).hasSize(6);
        assertThat(seen.get(1).syscall()).isEqualTo("umount2");
        assertThat(threads).noneMatch(t -> t.equals("berth-reactor"));
    }

    @Test
    void aListenerThatThrowsFailsTheSyscallWithEpermAndTheContainerGoesOn() throws Exception {
        Seccomp failing = Seccomp.defaultProfile().withListener(java.util.Set.of("mkdir", "mkdirat"), call -> {
            throw new IllegalStateException("listener bug");
        });
        String out = run(probe("mkdir", "/tmp/a", "--", "echo", "still here").seccomp(failing)).stdout();
        assertThat(out).isEqualTo("mkdir /tmp/a: Operation not permitted\nstill here\n");
    }

    @Test
    void aListenerNeedsNoNewPrivilegesAndCannotTakeTheInitsOwnSyscalls() {
        SeccompListener l = call -> SeccompResponse.continueSyscall();
        assertThatThrownBy(() -> probe("true").seccomp(Seccomp.defaultProfile().withListener(java.util.Set.of("mount"), l))
                .noNewPrivileges(false).build()).hasMessage("seccomp: a listener needs noNewPrivileges (the default)");
        assertThatThrownBy(() -> Seccomp.defaultProfile().withListener(java.util.Set.of("execve"), l))
                .hasMessageStartingWith("seccomp listener: execve cannot be notified");
        assertThatThrownBy(() -> Seccomp.unconfined().withListener(java.util.Set.of("mount"), l))
                .hasMessageStartingWith("seccomp: an unconfined container has no filter");
    }

    @Test
    void aJvmWithThreadsSocketsAndAChildProcessRunsUnderTheDefaultFilter() throws Exception {
        Result r = run(ContainerSpec.builder().rootfs(TestRootfs.jdk()).readonlyRootfs(true) // its files are the host's
                .command(TestRootfs.jdkJava(), "-XX:-UsePerfData", "-cp", "/opt/berth", "ThreadsAndSockets")
                .stdout(Stdio.pipe()).stderr(Stdio.inherit()));
        assertThat(r.status()).as(r.stdout()).isEqualTo(ExitStatus.exited(0));
        assertThat(r.stdout()).isEqualTo("echo sum=72\nchild exit=0\n");
    }

    @Test
    void aBusyboxShellRunsUnderTheDefaultFilter() throws Exception {
        Path busybox = Path.of("/bin/busybox");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(busybox), "busybox-static is not installed");
        Path root = tmp.resolve("busybox-root");
        for (String d : List.of("bin", "proc", "sys", "dev", "tmp", "etc")) {
            Files.createDirectories(root.resolve(d));
        }
        Files.copy(busybox, root.resolve("bin/busybox"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Result r = run(ContainerSpec.builder().rootfs(root).command("/bin/busybox", "sh", "-c",
                "for i in 1 2 3; do echo $i | /bin/busybox cat; done | /bin/busybox wc -l; "
                        + "/bin/busybox mkdir /tmp/d && /bin/busybox ls -d /tmp/d; (exit 3); echo $?; "
                        + "/bin/busybox sleep 0.1 & wait; echo waited")
                .stdout(Stdio.pipe()));
        assertThat(r.status()).as(r.stdout()).isEqualTo(ExitStatus.exited(0));
        assertThat(r.stdout()).isEqualTo("3\n/tmp/d\n3\nwaited\n");
    }
}
