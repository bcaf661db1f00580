package dev.berth.core.internal.seccomp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.Capability;
import dev.berth.linux.internal.Arch;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ProfileResolverTest {

    private static final SeccompProfile P = ProfileParser.parse("p.json", """
            {"defaultAction": "SCMP_ACT_ERRNO",
             "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]},
                         {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}],
             "flags": ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
             "syscalls": [
               {"names": ["read"], "action": "SCMP_ACT_ALLOW"},
               {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
               {"names": ["both"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN", "CAP_BPF"]}},
               {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38, "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
               {"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64"]}},
               {"names": ["set_tls"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["arm64"]}},
               {"names": ["notons390"], "action": "SCMP_ACT_ALLOW", "excludes": {"arches": ["s390x"]}},
               {"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4.8"}},
               {"names": ["old"], "action": "SCMP_ACT_ALLOW", "excludes": {"minKernel": "5.10"}},
               {"names": ["keyctl"], "action": "SCMP_ACT_ERRNO"}]}""");

    private static List<String> names(ResolvedFilter f) {
        return f.rules().stream().map(ResolvedFilter.Rule::syscall).toList();
    }

    @Test
    void includesNeedEveryCapabilityAndExcludesAny() {
        assertThat(names(ProfileResolver.resolve(P, Set.of(), Arch.X86_64, "6.1.0-18-amd64")))
                .containsExactly("read", "clone3", "arch_prctl", "notons390", "ptrace");
        assertThat(names(ProfileResolver.resolve(P, Set.of(Capability.SYS_ADMIN), Arch.X86_64, "6.1.0")))
                .containsExactly("read", "mount", "arch_prctl", "notons390", "ptrace");
        assertThat(names(ProfileResolver.resolve(P, Set.of(Capability.SYS_ADMIN, Capability.BPF), Arch.X86_64, "6.1")))
                .contains("both");
    }

    @Test
    void archesSelectByTheHostAndTheArchMapAddsItsSubArchitectures() {
        ResolvedFilter arm = ProfileResolver.resolve(P, Set.of(), Arch.AARCH64, "6.1.0");
        assertThat(names(arm)).contains("set_tls").doesNotContain("arch_prctl");
        assertThat(arm.arches()).containsExactly("aarch64", "arm");
        assertThat(ProfileResolver.resolve(P, Set.of(), Arch.X86_64, "6.1.0").arches()).containsExactly("x86_64", "x86");
    }

    @Test
    void minKernelComparesReleasesNumerically() {
        assertThat(names(ProfileResolver.resolve(P, Set.of(), Arch.X86_64, "4.4.0"))).contains("old")
                .doesNotContain("ptrace");
        assertThat(names(ProfileResolver.resolve(P, Set.of(), Arch.X86_64, "4.10.1"))).contains("ptrace", "old");
        assertThat(ProfileResolver.compareKernel("5.10.0-rc1", "5.10")).isZero();
        assertThat(ProfileResolver.compareKernel("5.9", "5.10")).isNegative();
    }

    @Test
    void actionsCarryTheirErrnoAndRulesSayingTheDefaultAreDropped() {
        ResolvedFilter f = ProfileResolver.resolve(P, Set.of(), Arch.X86_64, "6.1.0");
        assertThat(f.defaultAction()).isEqualTo(0x00050001);
        assertThat(f.rules().get(1).action()).isEqualTo(0x00050026);
        assertThat(names(f)).doesNotContain("keyctl"); // ERRNO(EPERM) is the default
        assertThat(f.flags()).as("TSYNC dropped, SPEC_ALLOW kept").isEqualTo(4L);
    }

    @Test
    void conditionsOnOneArgumentSplitIntoRules() {
        ArgCondition a = new ArgCondition(0, 1, 0, CompareOp.SCMP_CMP_EQ);
        ArgCondition b = new ArgCondition(0, 2, 0, CompareOp.SCMP_CMP_EQ);
        ArgCondition c = new ArgCondition(1, 2, 0, CompareOp.SCMP_CMP_EQ);
        assertThat(ProfileResolver.splitSameIndex(List.of(a, c))).containsExactly(List.of(a, c));
        assertThat(ProfileResolver.splitSameIndex(List.of(a, b))).containsExactly(List.of(a), List.of(b));
        assertThat(ProfileResolver.splitSameIndex(List.of())).containsExactly(List.of());
    }
}
