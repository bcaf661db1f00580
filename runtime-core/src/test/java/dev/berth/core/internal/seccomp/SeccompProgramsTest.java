package dev.berth.core.internal.seccomp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.Capability;
import dev.berth.linux.internal.Arch;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The program cache: one compile per profile value, relevant capability set and notified syscalls. The
 * compiler is a fake that counts its calls and encodes what it was given, so no libseccomp is needed.
 */
class SeccompProgramsTest {

    String json;
    final AtomicInteger compiles = new AtomicInteger();
    final List<ResolvedFilter> compiled = new ArrayList<>();

    /** A "program" made of the resolved filter's hash: different filters, different programs. */
    final Function<ResolvedFilter, BpfProgram> fake = f -> {
        compiles.incrementAndGet();
        synchronized (compiled) {
            compiled.add(f);
        }
        return new BpfProgram(new long[] {f.hashCode(), f.rules().size()}, f.flags());
    };

    @BeforeEach
    void load() throws IOException {
        try (InputStream in = SeccompProgramsTest.class.getResourceAsStream("/dev/berth/core/seccomp/default.json")) {
            json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    SeccompPrograms programs() {
        return new SeccompPrograms(fake, Arch.X86_64, "6.1.0");
    }

    @Test
    void theSameProfileReadTwiceIsCompiledOnce() {
        SeccompPrograms p = programs();
        BpfProgram a = p.program(ProfileParser.parse("default", json), Capability.dockerDefaults());
        BpfProgram b = p.program(ProfileParser.parse("default", json), EnumSet.copyOf(Capability.dockerDefaults()));
        assertThat(b).isSameAs(a);
        assertThat(compiles).hasValue(1);
    }

    @Test
    void aChangedProfileGetsAProgramOfItsOwn() {
        SeccompPrograms p = programs();
        BpfProgram a = p.program(ProfileParser.parse("default", json), Capability.dockerDefaults());
        // one value changed: a syscall no rule names gets ENOSYS instead of EPERM
        String changed = json.replaceFirst("\"defaultErrnoRet\": 1", "\"defaultErrnoRet\": 38");
        assertThat(changed).isNotEqualTo(json);
        BpfProgram b = p.program(ProfileParser.parse("default", changed), Capability.dockerDefaults());
        assertThat(b).isNotEqualTo(a);
        assertThat(compiles).hasValue(2);
        assertThat(compiled.get(1).defaultAction()).isEqualTo(SeccompAction.SCMP_ACT_ERRNO.value(38));
    }

    @Test
    void aCapabilityTheRulesNameChangesTheProgramOneTheyDoNotNameShares() {
        SeccompPrograms p = programs();
        SeccompProfile profile = ProfileParser.parse("default", json);
        BpfProgram base = p.program(profile, Capability.dockerDefaults());
        Set<Capability> admin = EnumSet.copyOf(Capability.dockerDefaults());
        admin.add(Capability.SYS_ADMIN); // the default profile's CAP_SYS_ADMIN rules: mount, unshare, setns ...
        BpfProgram withAdmin = p.program(profile, admin);
        assertThat(withAdmin).isNotEqualTo(base);
        assertThat(compiles).hasValue(2);
        Set<Capability> noRaw = EnumSet.copyOf(Capability.dockerDefaults());
        noRaw.remove(Capability.NET_RAW); // no rule of the default profile names CAP_NET_RAW
        assertThat(p.program(profile, noRaw)).isSameAs(base);
        assertThat(p.program(profile, Set.of())).isNotSameAs(base).isEqualTo(p.program(profile, Set.of(Capability.CHOWN)));
        assertThat(compiles).hasValue(3);
        assertThat(SeccompPrograms.relevantCaps(profile, admin)).containsExactly(Capability.SYS_CHROOT, Capability.SYS_ADMIN);
        assertThat(SeccompPrograms.relevantCaps(profile, Capability.dockerDefaults()))
                .as("Docker's defaults hold SYS_CHROOT, which rules name").containsExactly(Capability.SYS_CHROOT);
    }

    @Test
    void notifiedSyscallsAreOfTheKey() {
        SeccompPrograms p = programs();
        SeccompProfile profile = ProfileParser.parse("default", json);
        BpfProgram plain = p.program(profile, Capability.dockerDefaults());
        BpfProgram notified = p.program(profile, Capability.dockerDefaults(), Set.of("mount"));
        assertThat(notified).isNotEqualTo(plain);
        assertThat(p.program(profile, Capability.dockerDefaults(), Set.of("mount"))).isSameAs(notified);
        assertThat(compiles).hasValue(2);
    }

    @Test
    void concurrentStartsNeedingOneNewProgramShareOneCompile() throws Exception {
        SeccompPrograms p = programs();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<BpfProgram>> results = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                results.add(pool.submit(() -> {
                    go.await();
                    return p.program(ProfileParser.parse("default", json), Capability.dockerDefaults());
                }));
            }
            go.countDown();
            BpfProgram first = results.get(0).get(30, TimeUnit.SECONDS);
            for (Future<BpfProgram> f : results) {
                assertThat(f.get(30, TimeUnit.SECONDS)).isSameAs(first);
            }
            assertThat(compiles).hasValue(1);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void theCacheStaysBoundedAndAFailedCompileIsNotCached() {
        SeccompPrograms p = programs();
        for (int errno = 1; errno <= 200; errno++) {
            p.program(ProfileParser.parse("p", json.replaceFirst("\"defaultErrnoRet\": 1", "\"defaultErrnoRet\": "
                    + errno)), Set.of());
        }
        assertThat(p.size()).isLessThanOrEqualTo(65);
        assertThat(p.profiles()).isLessThanOrEqualTo(65);
        SeccompPrograms one = programs();
        SeccompProfile profile0 = ProfileParser.parse("default", json);
        for (Capability c : Capability.values()) {
            one.program(profile0, Set.of(c));
        }
        assertThat(one.profiles()).as("one profile object, however many capability sets").isEqualTo(1);
        SeccompPrograms failing = new SeccompPrograms(f -> {
            compiles.incrementAndGet();
            throw new IllegalArgumentException("seccomp profile " + f.name() + ": refused");
        }, Arch.X86_64, "6.1.0");
        SeccompProfile profile = ProfileParser.parse("bad", json);
        assertThatThrownBy(() -> failing.program(profile, Set.of())).hasMessage("seccomp profile bad: refused");
        assertThatThrownBy(() -> failing.program(profile, Set.of())).hasMessage("seccomp profile bad: refused");
        assertThat(failing.size()).isZero();
    }
}
