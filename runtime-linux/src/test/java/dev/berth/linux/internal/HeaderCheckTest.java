package dev.berth.linux.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HeaderCheckTest {

    @Test
    void oneAssertPerConstantWithThatArchitecturesValue() {
        String c = HeaderCheck.source(Arch.AARCH64, LinuxConstants.table());
        assertThat(c.lines().filter(l -> l.startsWith("_Static_assert(")).count()).isEqualTo(LinuxConstants.table().size());
        assertThat(c).contains("_Static_assert((O_DIRECTORY) == 16384LL, \"LinuxConstants.O_DIRECTORY = 16384 (0x4000) "
                + "for aarch64, but the C headers say O_DIRECTORY differs\");");
        assertThat(HeaderCheck.source(Arch.X86_64, LinuxConstants.table()))
                .contains("_Static_assert((O_DIRECTORY) == 65536LL,")
                .contains("_Static_assert((AT_FDCWD) == -100LL, \"LinuxConstants.AT_FDCWD = -100 for x86_64,");
    }

    /** The check is not vacuous: the other architecture's O_DIRECTORY fails to compile, named. */
    @Test
    void aValueFromTheWrongArchitectureFailsTheCompile(@TempDir Path dir) throws Exception {
        Arch here = Arch.current();
        Arch other = here == Arch.X86_64 ? Arch.AARCH64 : Arch.X86_64;
        long wrong = new LinuxConstants.Constant("O_DIRECTORY", "O_DIRECTORY", 0200000, 040000).value(other);
        LinuxConstants.Constant bad = here == Arch.X86_64
                ? new LinuxConstants.Constant("O_DIRECTORY", "O_DIRECTORY", wrong, 040000)
                : new LinuxConstants.Constant("O_DIRECTORY", "O_DIRECTORY", 0200000, wrong);

        assertThat(compile(dir, HeaderCheck.source(here, LinuxConstants.table()))).isEmpty();
        assertThat(compile(dir, HeaderCheck.source(here, List.of(bad))))
                .contains("static assertion failed")
                .contains("LinuxConstants.O_DIRECTORY = " + wrong + " (0x" + Long.toHexString(wrong) + ") for "
                        + here.linuxName());
    }

    /** Compiles with this machine's gcc; returns its diagnostics, empty when it compiled. */
    private static String compile(Path dir, String source) throws IOException, InterruptedException {
        Path file = dir.resolve("check.c");
        Files.writeString(file, source);
        Process p = new ProcessBuilder("gcc", "-std=gnu11", "-fsyntax-only", file.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int rc = p.waitFor();
        assertThat(rc == 0).as("gcc exit %d, output: %s", rc, out).isEqualTo(out.isEmpty());
        return out;
    }
}
