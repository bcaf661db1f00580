package dev.berth.core.internal.files;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.internal.sys.SyscallException;
import dev.berth.core.internal.sys.Syscalls;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The request packet of a rootless copy's reader (berth-init.c's open_files reads it). */
class NamespaceOpenerTest {

    @Test
    void aRequestIsTheFlagsTheResolveFlagsAndThePathLittleEndianWithoutANul() {
        int flags = Syscalls.O_RDONLY | Syscalls.O_NOFOLLOW | Syscalls.O_NONBLOCK | Syscalls.O_CLOEXEC;
        long resolve = Syscalls.RESOLVE_BENEATH | Syscalls.RESOLVE_NO_SYMLINKS | Syscalls.RESOLVE_NO_MAGICLINKS;
        byte[] r = NamespaceOpener.request("tmp/alice/sécret", flags, resolve);
        ByteBuffer b = ByteBuffer.wrap(r).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(b.getInt()).isEqualTo(flags);
        assertThat(b.getLong()).isEqualTo(resolve);
        assertThat(new String(r, 12, r.length - 12, StandardCharsets.UTF_8)).isEqualTo("tmp/alice/sécret");
    }

    @Test
    void anEmptyPathOneWithANulOrOneLongerThanPathMaxIsRefusedBeforeItIsSent() {
        for (String bad : new String[] {"", "a\0/etc/shadow", "x".repeat(4096)}) {
            assertThatThrownBy(() -> NamespaceOpener.request(bad, 0, Syscalls.RESOLVE_BENEATH))
                    .isInstanceOf(SyscallException.class).hasMessageContaining("openat2");
        }
    }
}
