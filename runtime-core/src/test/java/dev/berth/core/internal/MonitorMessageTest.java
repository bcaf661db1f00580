package dev.berth.core.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The monitor's packets as the JVM decodes them, the pty master's 'T' with the fd it passes. */
class MonitorMessageTest {

    @Test
    void theTerminalMessageCarriesThePassedFd() {
        assertThat(MonitorMessage.decode(new byte[] {'T'}, 1, 42)).isEqualTo(new MonitorMessage('T', 42, 0, ""));
    }

    @Test
    void aTerminalMessageWithoutItsFdIsRefused() {
        assertThatThrownBy(() -> MonitorMessage.decode(new byte[] {'T'}, 1, -1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("monitor message 'T' without the pty master it passes");
    }

    @Test
    void theSeccompListenerMessageCarriesItsFdAndNeedsOne() {
        assertThat(MonitorMessage.decode(new byte[] {'N'}, 1, 43)).isEqualTo(new MonitorMessage('N', 43, 0, ""));
        assertThatThrownBy(() -> MonitorMessage.decode(new byte[] {'N'}, 1, -1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("monitor message 'N' without the seccomp listener fd it passes");
    }

    @Test
    void noOtherMessagePassesAnFd() {
        assertThatThrownBy(() -> MonitorMessage.decode(new byte[] {'X'}, 1, 42))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("monitor message 'X' passed an fd");
        assertThatThrownBy(() -> MonitorMessage.decode(RecordingSyscalls.message('W', 0), 5, 7))
                .hasMessage("monitor message 'W' passed an fd");
    }

    @Test
    void theOtherMessagesDecodeAsBefore() {
        assertThat(MonitorMessage.decode(RecordingSyscalls.message('C', 777), 5)).isEqualTo(new MonitorMessage('C', 777, 0, ""));
        // a berth-init that says its own pid (a detached monitor is not the process the JVM spawned)
        byte[] c = java.nio.ByteBuffer.allocate(9).order(java.nio.ByteOrder.LITTLE_ENDIAN).put((byte) 'C').putInt(777)
                .putInt(778).array();
        assertThat(MonitorMessage.decode(c, 9).monitorPid()).isEqualTo(778);
        assertThat(MonitorMessage.decode(c, 9).value()).isEqualTo(777);
        assertThat(MonitorMessage.decode(new byte[] {'X'}, 1)).isEqualTo(new MonitorMessage('X', 0, 0, ""));
        byte[] e = RecordingSyscalls.error(45, 1, "/dev/pts/ptmx");
        assertThat(MonitorMessage.decode(e, e.length, -1)).isEqualTo(new MonitorMessage('E', 45, 1, "/dev/pts/ptmx"));
        assertThatThrownBy(() -> MonitorMessage.decode(new byte[] {'C', 1}, 2)).hasMessage("short monitor message 'C': 2 bytes");
        assertThatThrownBy(() -> MonitorMessage.decode(new byte[] {'Q'}, 1)).hasMessage("unknown monitor message 'Q'");
    }
}
