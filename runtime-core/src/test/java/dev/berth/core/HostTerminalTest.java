package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.internal.sys.SyscallException;
import dev.berth.core.internal.sys.Syscalls;
import java.io.UncheckedIOException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Raw mode and its restoration, against a fake terminal at fd 0 (the launcher test drives a real one). */
class HostTerminalTest {
    private static final byte[] COOKED = {1, 2, 3};
    private static final byte[] RAW = {9, 9, 9};

    private final List<String> calls = new ArrayList<>();
    private boolean failTcsetattr;

    /** A terminal at fd 0 only, 132x43, whose settings are COOKED and whose raw mode is RAW. */
    private final Syscalls sys = (Syscalls) Proxy.newProxyInstance(Syscalls.class.getClassLoader(),
            new Class<?>[] {Syscalls.class}, (proxy, method, args) -> switch (method.getName()) {
                case "isatty" -> (Integer) args[0] == 0;
                case "windowSize" -> new int[] {132, 43};
                case "tcgetattr" -> COOKED.clone();
                case "makeRaw" -> Arrays.equals((byte[]) args[0], COOKED) ? RAW.clone() : null;
                case "tcsetattr" -> {
                    if (failTcsetattr) {
                        throw new SyscallException("tcsetattr", "0", 5, "Input/output error");
                    }
                    calls.add("tcsetattr " + args[0] + " " + (Arrays.equals((byte[]) args[1], RAW) ? "raw"
                            : Arrays.equals((byte[]) args[1], COOKED) ? "cooked" : "?"));
                    yield null;
                }
                default -> throw new UnsupportedOperationException(method.getName());
            });

    @Test
    void onlyATerminalIsOne() {
        assertThat(HostTerminal.of(sys, 1, "stdout")).isEmpty();
        assertThat(HostTerminal.of(sys, 0, "stdin")).isPresent();
    }

    @Test
    void theSizeIsColumnsByRows() {
        assertThat(HostTerminal.of(sys, 0, "stdin").orElseThrow().size()).isEqualTo(new TerminalSize(132, 43));
    }

    @Test
    void rawModeLastsUntilClosedAndRestoresTheSettingsOnce() {
        HostTerminal t = HostTerminal.of(sys, 0, "stdin").orElseThrow();
        HostTerminal.RawMode raw = t.enterRawMode();
        assertThat(calls).containsExactly("tcsetattr 0 raw");
        raw.close();
        raw.close(); // idempotent: a second close (or the shutdown hook after it) restores nothing more
        assertThat(calls).containsExactly("tcsetattr 0 raw", "tcsetattr 0 cooked");
    }

    @Test
    void aTerminalThatCannotBeSetIsAnIoError() {
        failTcsetattr = true;
        assertThatThrownBy(() -> HostTerminal.of(sys, 0, "stdin").orElseThrow().enterRawMode())
                .isInstanceOf(UncheckedIOException.class)
                .hasMessageContaining("stdin terminal: tcsetattr(0): Input/output error");
    }
}
