package dev.berth.core.internal.seccomp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.berth.core.Capability;
import dev.berth.core.internal.linux.Libseccomp;
import dev.berth.linux.internal.Arch;
import dev.berth.linux.internal.LinuxConstants;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The shorter program {@link RangeDispatch} puts in place of libseccomp's answers every syscall as
 * libseccomp's does, asked through the BPF interpreter (not the walk that proved it): every number on the
 * filter's architectures and others, with arguments that hit each of the default profile's argument tests.
 */
class RangeDispatchTest {

    static final long X86_64 = LinuxConstants.AUDIT_ARCH_X86_64;
    static final long I386 = LinuxConstants.AUDIT_ARCH_I386;
    static final int ALLOW = SeccompAction.SCMP_ACT_ALLOW.value(0);
    static final int EPERM = SeccompAction.SCMP_ACT_ERRNO.value(1);

    static Libseccomp lib;
    static SeccompProfile defaults;

    @BeforeAll
    static void load() throws IOException {
        assumeTrue(Arch.current() == Arch.X86_64, "the architectures below are x86_64's");
        lib = new Libseccomp();
        try (InputStream in = RangeDispatchTest.class.getResourceAsStream("/dev/berth/core/seccomp/default.json")) {
            defaults = ProfileParser.parse("default", new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    /** What the compiler made before the dispatch: libseccomp's program behind the ENOSYS stub (if any). */
    static long[] libseccompOnly(ResolvedFilter f) {
        SeccompCompiler c = new SeccompCompiler(lib);
        long[] body = lib.export(f);
        return SeccompCompiler.needsStub(f) ? SeccompCompiler.withEnosysStub(body, c.lastSyscalls(f)) : body;
    }

    static ResolvedFilter resolve(SeccompProfile p, Set<Capability> caps) {
        return ProfileResolver.resolve(p, caps, Arch.X86_64, "6.1.0");
    }

    /** Argument vectors: each value the default profile tests (clone flags, personalities, socket families), and random ones. */
    static List<long[]> argVectors() {
        List<long[]> out = new ArrayList<>();
        long[] interesting = {0, 1, 2, 8, 10, 16, 17, 40, 0x20000, 0x20008, 0xffffffffL, 0x3d0f00L, 0x10000000L | 17,
                0x7e020000L, 0x100000000L, -1L};
        for (long v : interesting) {
            out.add(new long[] {v, v, v, v, v, v});
            out.add(new long[] {v, 0, 0, 0, 0, 0});
        }
        SplittableRandom rnd = new SplittableRandom(42);
        for (int i = 0; i < 40; i++) {
            long[] a = new long[6];
            for (int j = 0; j < 6; j++) {
                a[j] = rnd.nextBoolean() ? rnd.nextLong() : rnd.nextInt(64);
            }
            out.add(a);
        }
        return out;
    }

    static void assertAnswersAlike(long[] expected, long[] actual) {
        List<long[]> args = argVectors();
        for (long arch : List.of(X86_64, I386, LinuxConstants.AUDIT_ARCH_AARCH64, 0L)) {
            List<Integer> nrs = new ArrayList<>();
            for (int nr = 0; nr < 600; nr++) {
                nrs.add(nr);
            }
            nrs.addAll(List.of(0x40000000, 0x40000000 | 1, 0x40000000 | 322, Integer.MAX_VALUE, -1));
            for (int nr : nrs) {
                for (long[] a : args) {
                    assertThat(BpfInterpreter.run(actual, arch, nr, a))
                            .as("arch %x nr %d args %s", arch, nr, java.util.Arrays.toString(a))
                            .isEqualTo(BpfInterpreter.run(expected, arch, nr, a));
                }
            }
        }
    }

    @Test
    void theDefaultProgramIsUnderAThirdOfLibseccompsAndAnswersEverySyscallAlike() {
        for (Set<Capability> caps : List.of(Capability.dockerDefaults(), EnumSet.of(Capability.SYS_ADMIN),
                EnumSet.noneOf(Capability.class))) {
            ResolvedFilter f = resolve(defaults, caps);
            long[] before = libseccompOnly(f);
            long[] after = new SeccompCompiler(lib).compile(f).instructions();
            assertThat(after.length).as("%s: %d instructions before", caps, before.length).isLessThan(before.length / 3);
            assertAnswersAlike(before, after);
        }
    }

    @Test
    void anAllowByDefaultProfileHasNoStubAndIsShortenedToo() {
        SeccompProfile deny = new SeccompProfile("deny", SeccompAction.SCMP_ACT_ALLOW, null, List.of(),
                Map.of("SCMP_ARCH_X86_64", List.of("SCMP_ARCH_X86")), List.of(), List.of(
                        new SyscallRule(List.of("mount", "umount2", "keyctl", "add_key", "bpf", "ptrace", "reboot",
                                "kexec_load", "swapon", "swapoff", "init_module", "finit_module", "delete_module"),
                                SeccompAction.SCMP_ACT_ERRNO, null, List.of(), RuleFilter.NONE, RuleFilter.NONE),
                        new SyscallRule(List.of("personality"), SeccompAction.SCMP_ACT_ERRNO, 22,
                                List.of(new ArgCondition(0, 0x20008, 0, CompareOp.SCMP_CMP_EQ)), RuleFilter.NONE,
                                RuleFilter.NONE)));
        ResolvedFilter f = resolve(deny, Set.of());
        long[] before = libseccompOnly(f);
        long[] after = new SeccompCompiler(lib).compile(f).instructions();
        assertThat(SeccompCompiler.needsStub(f)).isFalse();
        assertAnswersAlike(before, after);
        assertThat(BpfInterpreter.run(after, X86_64, lib.syscallNumber("x86_64", "mount"))).isEqualTo(EPERM);
        assertThat(BpfInterpreter.run(after, X86_64, lib.syscallNumber("x86_64", "personality"), 0x20008))
                .isEqualTo(SeccompAction.SCMP_ACT_ERRNO.value(22));
        assertThat(BpfInterpreter.run(after, X86_64, lib.syscallNumber("x86_64", "personality"), 0)).isEqualTo(ALLOW);
        assertThat(BpfInterpreter.run(after, X86_64, 1000)).as("above every named number").isEqualTo(ALLOW);
    }

    @Test
    void runsTooManyForOneBytesJumpsKeepLibseccompsProgram() {
        // every other x86_64 syscall allowed: a run per number, more than a block's 8-bit jumps reach
        List<String> names = new ArrayList<>();
        for (int nr = 0; nr < 440; nr += 2) {
            String name = lib.syscallName(X86_64, nr);
            if (name != null) {
                names.add(name);
            }
        }
        SeccompProfile alternate = new SeccompProfile("alternate", SeccompAction.SCMP_ACT_ERRNO, null, List.of(),
                Map.of(), List.of(), List.of(new SyscallRule(names, SeccompAction.SCMP_ACT_ALLOW, null, List.of(),
                        RuleFilter.NONE, RuleFilter.NONE)));
        ResolvedFilter f = resolve(alternate, Set.of());
        long[] before = libseccompOnly(f);
        assertThat(new SeccompCompiler(lib).compile(f).instructions()).containsExactly(before);
    }

    @Test
    void theWalkFollowsArgumentTestsBothWaysAndKnowsConstantAnswers() throws RangeDispatch.Unproven {
        long[] p = {
            BpfProgram.insn(RangeDispatch.LD_W_ABS, 0, 0, RangeDispatch.NR),
            BpfProgram.insn(RangeDispatch.JEQ_K, 0, 2, 5),
            BpfProgram.insn(RangeDispatch.LD_W_ABS, 0, 0, 16), // args[0], low word
            BpfProgram.insn(RangeDispatch.JSET_K, 1, 0, 0x10),
            BpfProgram.insn(RangeDispatch.RET_K, 0, 0, ALLOW),
            BpfProgram.insn(RangeDispatch.RET_K, 0, 0, EPERM),
        };
        assertThat(RangeDispatch.walk(p, X86_64, 4)).isEqualTo(new RangeDispatch.Ret(ALLOW));
        assertThat(RangeDispatch.walk(p, X86_64, 5)).isEqualTo(new RangeDispatch.Test("data[16]", RangeDispatch.JSET_K,
                0x10, new RangeDispatch.Ret(EPERM), new RangeDispatch.Ret(ALLOW)));
        long[] unknown = {BpfProgram.insn(0x07 /* TAX */, 0, 0, 0), BpfProgram.insn(RangeDispatch.RET_K, 0, 0, ALLOW)};
        assertThatThrownBy(() -> RangeDispatch.walk(unknown, X86_64, 0)).isInstanceOf(RangeDispatch.Unproven.class)
                .hasMessageContaining("opcode 7");
        long[] offTheEnd = {BpfProgram.insn(RangeDispatch.JA, 0, 0, 3)};
        assertThatThrownBy(() -> RangeDispatch.walk(offTheEnd, X86_64, 0)).isInstanceOf(RangeDispatch.Unproven.class);
    }

    @Test
    void aProgramTheWalkCannotFollowIsKeptAsItIs() {
        ResolvedFilter f = resolve(defaults, Capability.dockerDefaults());
        long[] body = lib.export(f);
        long[] odd = new long[body.length + 1];
        odd[0] = BpfProgram.insn(0x07 /* TAX: nothing libseccomp emits */, 0, 0, 0);
        System.arraycopy(body, 0, odd, 1, body.length);
        assertThat(RangeDispatch.shrink(odd, f, lib, UnaryOperator.identity())).isSameAs(odd);
    }
}
