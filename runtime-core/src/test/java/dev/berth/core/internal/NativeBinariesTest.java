package dev.berth.core.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.linux.internal.Arch;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The classes directory (packed into the jar as it is) holds a berth-init for every
 * architecture, each a static ELF executable for that machine. build-native.sh only warns
 * when a cross compiler is missing; this is where such a build fails.
 */
class NativeBinariesTest {
    // <elf.h>
    private static final int ELFCLASS64 = 2;
    private static final int ELFDATA2LSB = 1;
    private static final int ET_EXEC = 2;
    private static final int PT_DYNAMIC = 2;
    private static final int PT_INTERP = 3;

    static int elfMachine(Arch arch) {
        return switch (arch) {
            case X86_64 -> 62; // EM_X86_64
            case AARCH64 -> 183; // EM_AARCH64
        };
    }

    static byte[] binary(Arch arch) throws IOException {
        String name = NativeInit.resourceName(arch);
        try (InputStream in = NativeInit.class.getResourceAsStream(name)) {
            assertThat(in).as("%s is not on the classpath: build-native.sh found no %s-linux-gnu-gcc "
                    + "(install gcc-aarch64-linux-gnu and libc6-dev-arm64-cross; .ci/install-deps.sh does)",
                    name, arch.linuxName()).isNotNull();
            return in.readAllBytes();
        }
    }

    @ParameterizedTest
    @EnumSource(Arch.class)
    void aStaticElfExecutableForEachMachine(Arch arch) throws IOException {
        ByteBuffer elf = ByteBuffer.wrap(binary(arch)).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(elf.getInt(0)).as("ELF magic").isEqualTo(0x464c457f);
        assertThat(elf.get(4)).as("EI_CLASS").isEqualTo((byte) ELFCLASS64);
        assertThat(elf.get(5)).as("EI_DATA").isEqualTo((byte) ELFDATA2LSB);
        assertThat(elf.getShort(16)).as("e_type: gcc -static makes a plain executable").isEqualTo((short) ET_EXEC);
        assertThat(elf.getShort(18) & 0xffff).as("e_machine of the %s binary", arch.linuxName())
                .isEqualTo(elfMachine(arch));
        long phoff = elf.getLong(32);
        int phentsize = elf.getShort(54) & 0xffff;
        int phnum = elf.getShort(56) & 0xffff;
        assertThat(phnum).as("program headers").isPositive();
        for (int i = 0; i < phnum; i++) {
            int type = elf.getInt((int) (phoff + (long) i * phentsize));
            assertThat(type).as("program header %d: a static binary has no interpreter and no dynamic section "
                    + "(it runs in a container whose root has no libc)", i).isNotIn(PT_INTERP, PT_DYNAMIC);
        }
    }
}
