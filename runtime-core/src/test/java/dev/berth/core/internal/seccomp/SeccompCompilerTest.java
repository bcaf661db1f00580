package dev.berth.core.internal.seccomp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.berth.core.Capability;
import dev.berth.core.internal.linux.Libseccomp;
import dev.berth.linux.internal.Arch;
import dev.berth.linux.internal.LinuxConstants;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The programs libseccomp generates for Berth's profiles, behind Berth's ENOSYS stub, asked what they
 * answer through a BPF interpreter: no privilege, no filter loaded.
 */
class SeccompCompilerTest {

    static final int ALLOW = SeccompAction.SCMP_ACT_ALLOW.value(0);
    static final int EPERM = SeccompAction.SCMP_ACT_ERRNO.value(1);
    static final int ENOSYS = SeccompAction.SCMP_ACT_ERRNO.value(38);
    static final long X86_64 = LinuxConstants.AUDIT_ARCH_X86_64;
    static final long I386 = LinuxConstants.AUDIT_ARCH_I386;
    static final long AARCH64 = LinuxConstants.AUDIT_ARCH_AARCH64;
    static final long CLONE_NEWUSER = 0x10000000L;
    static final long CLONE_THREAD_FLAGS = 0x3d0f00L; // what glibc's pthread_create passes
    static final int AF_INET = 2;
    static final int AF_VSOCK = 40;

    static Libseccomp lib;
    static SeccompProfile defaults;

    @BeforeAll
    static void load() throws IOException {
        assumeTrue(Arch.current() == Arch.X86_64, "the syscall numbers below are x86_64's");
        lib = new Libseccomp();
        try (InputStream in = SeccompCompilerTest.class.getResourceAsStream("/dev/berth/core/seccomp/default.json")) {
            defaults = ProfileParser.parse("default", new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    static long[] compile(SeccompProfile p, Set<Capability> caps) {
        return new SeccompCompiler(lib).compile(ProfileResolver.resolve(p, caps, Arch.X86_64, "6.1.0")).instructions();
    }

    static int nr(String name) {
        return lib.syscallNumber("x86_64", name);
    }

    static int run(long[] prog, String name, long... args) {
        return BpfInterpreter.run(prog, X86_64, nr(name), args);
    }

    @Test
    void theDefaultProfileRefusesTheKeyringNamespacesAndVsockAndAllowsOrdinaryWork() {
        long[] p = compile(defaults, Capability.dockerDefaults());
        for (String denied : List.of("keyctl", "add_key", "request_key", "bpf", "perf_event_open", "kexec_load",
                "open_by_handle_at", "unshare", "mount", "umount2", "setns", "init_module", "reboot", "swapon")) {
            assertThat(run(p, denied)).as(denied).isEqualTo(EPERM);
        }
        for (String allowed : List.of("read", "write", "openat", "execve", "exit_group", "futex", "mmap", "getpid",
                "wait4", "rt_sigreturn", "seccomp", "chroot", "epoll_wait", "io_uring_setup", "ptrace")) {
            assertThat(run(p, allowed)).as(allowed).isEqualTo(ALLOW);
        }
        assertThat(run(p, "clone", CLONE_THREAD_FLAGS)).as("clone of a thread").isEqualTo(ALLOW);
        assertThat(run(p, "clone", 17 /* SIGCHLD: fork */)).as("fork by clone").isEqualTo(ALLOW);
        assertThat(run(p, "clone", CLONE_NEWUSER | 17)).as("clone(CLONE_NEWUSER)").isEqualTo(EPERM);
        assertThat(run(p, "clone3")).as("clone3: libc falls back to clone").isEqualTo(ENOSYS);
        assertThat(run(p, "socket", AF_INET)).isEqualTo(ALLOW);
        assertThat(run(p, "socket", AF_VSOCK)).isEqualTo(EPERM);
        assertThat(run(p, "personality", 0)).isEqualTo(ALLOW);
        assertThat(run(p, "personality", 0xffffffffL)).as("query").isEqualTo(ALLOW);
        assertThat(run(p, "personality", 0x0040000L)).as("ADDR_NO_RANDOMIZE").isEqualTo(EPERM);
    }

    @Test
    void syscallsNewerThanTheProfileGetEnosysAndX32AndUnknownAbisToo() {
        long[] p = compile(defaults, Capability.dockerDefaults());
        assertThat(BpfInterpreter.run(p, X86_64, 1000)).as("a syscall newer than the profile").isEqualTo(ENOSYS);
        assertThat(BpfInterpreter.run(p, X86_64, 0x40000000 | nr("getpid"))).as("x32 getpid").isEqualTo(ENOSYS);
        assertThat(BpfInterpreter.run(p, AARCH64, 172)).as("an ABI the filter lacks").isEqualTo(ENOSYS);
        // a syscall the profile does not name but older than its last one: the default action
        assertThat(run(p, "kexec_file_load")).isEqualTo(EPERM);
    }

    @Test
    void i386SyscallsAreFilteredByTheirOwnNumbers() {
        long[] p = compile(defaults, Capability.dockerDefaults());
        int keyctl = lib.syscallNumber("x86", "keyctl");
        int getpid = lib.syscallNumber("x86", "getpid");
        assertThat(keyctl).isNotEqualTo(nr("keyctl"));
        assertThat(BpfInterpreter.run(p, I386, keyctl)).isEqualTo(EPERM);
        assertThat(BpfInterpreter.run(p, I386, getpid)).isEqualTo(ALLOW);
    }

    @Test
    void capSysAdminGetsMountNamespacesAndClone3AsDockerGivesThem() {
        Set<Capability> caps = EnumSet.copyOf(Capability.dockerDefaults());
        caps.add(Capability.SYS_ADMIN);
        long[] p = compile(defaults, caps);
        for (String s : List.of("mount", "umount2", "unshare", "setns", "clone3", "sethostname", "bpf")) {
            assertThat(run(p, s)).as(s).isEqualTo(ALLOW);
        }
        assertThat(run(p, "clone", CLONE_NEWUSER | 17)).isEqualTo(ALLOW);
        assertThat(run(p, "keyctl")).as("the keyring stays shut").isEqualTo(EPERM);
    }

    @Test
    void otherCapabilitiesOpenTheirGroups() {
        long[] none = compile(defaults, Set.of());
        assertThat(run(none, "chroot")).isEqualTo(EPERM);
        Set<Capability> caps = EnumSet.of(Capability.SYS_TIME, Capability.SYS_PTRACE, Capability.DAC_READ_SEARCH);
        long[] p = compile(defaults, caps);
        assertThat(run(p, "settimeofday")).isEqualTo(ALLOW);
        assertThat(run(p, "process_madvise")).isEqualTo(ALLOW);
        assertThat(run(p, "open_by_handle_at")).isEqualTo(ALLOW);
        assertThat(run(p, "chroot")).isEqualTo(EPERM);
    }

    @Test
    void aCustomProfilesErrnoIsHonouredAndAnAllowingDefaultGetsNoStub() {
        SeccompProfile p = ProfileParser.parse("deny-mkdir.json", """
                {"defaultAction": "SCMP_ACT_ALLOW",
                 "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
                              {"names": ["getcwd"], "action": "SCMP_ACT_ERRNO"},
                              {"names": ["kill"], "action": "SCMP_ACT_KILL_PROCESS"}]}""");
        long[] prog = compile(p, Capability.dockerDefaults());
        assertThat(run(prog, "mkdir")).isEqualTo(SeccompAction.SCMP_ACT_ERRNO.value(13));
        assertThat(run(prog, "mkdirat")).isEqualTo(SeccompAction.SCMP_ACT_ERRNO.value(13));
        assertThat(run(prog, "getcwd")).as("errno without errnoRet: EPERM").isEqualTo(EPERM);
        assertThat(run(prog, "kill")).isEqualTo(SeccompAction.SCMP_ACT_KILL_PROCESS.value(0));
        assertThat(run(prog, "keyctl")).isEqualTo(ALLOW);
        assertThat(BpfInterpreter.run(prog, X86_64, 1000)).as("no ENOSYS stub under an allowing default")
                .isEqualTo(ALLOW);
    }

    @Test
    void argumentConditionsOnOneArgumentAreAlternativesOnTwoAreBoth() {
        SeccompProfile p = ProfileParser.parse("args.json", """
                {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
                 "syscalls": [
                  {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
                   "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}, {"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}]},
                  {"names": ["socket"], "action": "SCMP_ACT_ALLOW",
                   "args": [{"index": 0, "value": 2, "op": "SCMP_CMP_EQ"},
                            {"index": 1, "value": 15, "valueTwo": 1, "op": "SCMP_CMP_MASKED_EQ"}]},
                  {"names": ["read", "exit_group"], "action": "SCMP_ACT_ALLOW"}]}""");
        long[] prog = compile(p, Set.of());
        assertThat(run(prog, "personality", 8)).isEqualTo(ALLOW);
        assertThat(run(prog, "personality", 0)).isEqualTo(ALLOW);
        assertThat(run(prog, "personality", 1)).isEqualTo(EPERM);
        assertThat(run(prog, "socket", 2, 1)).as("AF_INET, SOCK_STREAM").isEqualTo(ALLOW);
        assertThat(run(prog, "socket", 2, 2)).as("AF_INET, SOCK_DGRAM").isEqualTo(EPERM);
        assertThat(run(prog, "socket", 10, 1)).as("AF_INET6").isEqualTo(EPERM);
    }

    @Test
    void theStubSendsOnlyNumbersAboveTheLastNamedOneOfTheirArchitectureToEnosys() {
        long[] body = {BpfProgram.insn(LinuxConstants.BPF_RET_K, 0, 0, ALLOW)};
        Map<Long, Long> last = new LinkedHashMap<>();
        last.put(X86_64, 10L);
        last.put(I386, 20L);
        long[] p = SeccompCompiler.withEnosysStub(body, last);
        assertThat(BpfInterpreter.run(p, X86_64, 10)).isEqualTo(ALLOW);
        assertThat(BpfInterpreter.run(p, X86_64, 11)).isEqualTo(ENOSYS);
        assertThat(BpfInterpreter.run(p, X86_64, -1)).as("unsigned: above every number").isEqualTo(ENOSYS);
        assertThat(BpfInterpreter.run(p, I386, 20)).isEqualTo(ALLOW);
        assertThat(BpfInterpreter.run(p, I386, 21)).isEqualTo(ENOSYS);
        assertThat(BpfInterpreter.run(p, AARCH64, 5000)).as("not in the stub: the body decides").isEqualTo(ALLOW);
        assertThat(p).endsWith(body);
        assertThat(SeccompCompiler.withEnosysStub(body, Map.of())).containsExactly(body);
    }

    @Test
    void theDefaultProgramFitsTheKernelsLimitAndIsCached() {
        SeccompPrograms programs = new SeccompPrograms(new SeccompCompiler(lib), Arch.X86_64, "6.1.0");
        BpfProgram a = programs.program(defaults, Capability.dockerDefaults());
        assertThat(a.length()).isBetween(100, LinuxConstants.BPF_MAXINSNS);
        assertThat(programs.program(defaults, EnumSet.copyOf(Capability.dockerDefaults()))).isSameAs(a);
        assertThat(programs.program(defaults, Set.of(Capability.SYS_ADMIN))).isNotEqualTo(a);
    }
}
