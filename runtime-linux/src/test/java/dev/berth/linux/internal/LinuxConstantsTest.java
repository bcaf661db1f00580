package dev.berth.linux.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LinuxConstantsTest {

    private static LinuxConstants.Constant entry(String name) {
        return LinuxConstants.table().stream().filter(c -> c.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no table entry " + name));
    }

    /** The build checks the table; this pins that the table is exactly the fields, with the fields' values. */
    @Test
    void everyFieldIsATableEntryWithTheSameValue() throws IllegalAccessException {
        Map<String, Long> fields = new LinkedHashMap<>();
        for (Field f : LinuxConstants.class.getDeclaredFields()) {
            int m = f.getModifiers();
            if (Modifier.isPublic(m) && Modifier.isStatic(m) && (f.getType() == int.class || f.getType() == long.class)) {
                fields.put(f.getName(), ((Number) f.get(null)).longValue());
            }
        }
        Map<String, Long> table = new LinkedHashMap<>();
        for (LinuxConstants.Constant c : LinuxConstants.table()) {
            assertThat(table.put(c.name(), c.value(LinuxConstants.arch()))).as("table entry %s twice", c.name()).isNull();
        }
        assertThat(fields).isNotEmpty().containsExactlyInAnyOrderEntriesOf(table);
    }

    @Test
    void openFlagsThatDifferOnAarch64() {
        assertThat(entry("O_DIRECTORY").x86_64()).isEqualTo(0200000);
        assertThat(entry("O_DIRECTORY").aarch64()).isEqualTo(040000); // 0200000 is O_DIRECT there
        assertThat(entry("O_NOFOLLOW").x86_64()).isEqualTo(0400000);
        assertThat(entry("O_NOFOLLOW").aarch64()).isEqualTo(0100000);
        assertThat(LinuxConstants.O_DIRECTORY).isEqualTo(entry("O_DIRECTORY").value(Arch.current()));
    }

    @Test
    void epollEventIsPackedOnX86Only() {
        assertThat(entry("EPOLL_EVENT_SIZE").x86_64()).isEqualTo(12);
        assertThat(entry("EPOLL_EVENT_SIZE").aarch64()).isEqualTo(16);
        assertThat(entry("EPOLL_DATA_OFFSET").cExpression()).isEqualTo("offsetof(struct epoll_event, data)");
    }

    @Test
    void archFromOsArchOrUnameName() {
        assertThat(Arch.of("amd64")).isEqualTo(Arch.X86_64);
        assertThat(Arch.of("x86_64")).isEqualTo(Arch.X86_64);
        assertThat(Arch.of("aarch64")).isEqualTo(Arch.AARCH64);
        assertThat(Arch.of("ARM64")).isEqualTo(Arch.AARCH64);
        assertThat(Arch.X86_64.linuxName()).isEqualTo("x86_64");
        assertThat(Arch.AARCH64.linuxName()).isEqualTo("aarch64");
        assertThatThrownBy(() -> Arch.of("riscv64")).isInstanceOf(IllegalStateException.class)
                .hasMessage("os.arch \"riscv64\" is not supported: Berth's kernel constants and its berth-init "
                        + "exist for [x86_64, aarch64] only");
    }

    /**
     * check-constants.sh marks each architecture whose headers it compiled the table against;
     * without a cross compiler it only warns, so this is where a build that checked only the
     * build machine's architecture fails.
     */
    @Test
    void thisBuildCheckedTheTableAgainstEveryArchitecturesHeaders() {
        Path dir = Path.of(System.getProperty("berth.constants.check", "target/constants-check"));
        for (Arch arch : Arch.values()) {
            Path marker = dir.resolve(arch.linuxName() + ".ok");
            assertThat(Files.isRegularFile(marker))
                    .as("LinuxConstants was not checked against the %s C headers in this build (%s missing): "
                            + "check-constants.sh found no %s-linux-gnu-gcc; install it (.ci/install-deps.sh does)",
                            arch.linuxName(), marker, arch.linuxName())
                    .isTrue();
        }
    }
}
