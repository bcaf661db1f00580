package dev.berth.core.internal.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class PlanEncodingTest {

    @Test
    void encodesGoldenBytes() {
        Plan plan = new Plan(List.of(
                Op.clone(0x20000L, -1),
                Op.of(OpCode.SETHOSTNAME, "box"),
                Op.of(OpCode.MASK, "/p").optional()));
        String expected = ""
                + "42525431" + "01000000" + "03000000"                     // "BRT1", version 1, 3 ops
                + "01000000" + "00000000" + "02000000"                     // CLONE, flags 0, 2 args
                + "08000000" + "0000020000000000"                          // u64 0x20000
                + "08000000" + "ffffffffffffffff"                          // i64 -1
                + "0c000000" + "00000000" + "01000000"                     // SETHOSTNAME, 1 arg
                + "03000000" + "626f78"                                    // "box"
                + "0b000000" + "01000000" + "01000000"                     // MASK, OPTIONAL, 1 arg
                + "02000000" + "2f70";                                     // "/p"
        assertThat(HexFormat.of().formatHex(plan.encode())).isEqualTo(expected);
    }

    @Test
    void encodesUtf8Strings() {
        Plan plan = new Plan(List.of(Op.clone(0, -1), Op.of(OpCode.SETHOSTNAME, "é")));
        byte[] b = plan.encode();
        assertThat(HexFormat.of().formatHex(b)).endsWith("02000000c3a9");
    }

    @Test
    void aPlanStartsWithClone() {
        assertThatThrownBy(() -> new Plan(List.of(Op.of(OpCode.WAIT_GO))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("CLONE");
    }

    @Test
    void opArgumentsAreStringsOrLongs() {
        assertThatThrownBy(() -> Op.of(OpCode.MKDIR, "/x", 5))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("String or Long");
    }

    /** The C enum and the Java enum are the wire format: they must agree on every number. */
    @Test
    void opCodesMatchTheNativeStage() throws IOException {
        String c = Files.readString(Path.of("src/main/c/berth-init.c"));
        Matcher m = Pattern.compile("OP_([A-Z_]+) = (\\d+),").matcher(c);
        Map<String, Integer> native_ = new LinkedHashMap<>();
        while (m.find()) {
            native_.put(m.group(1), Integer.parseInt(m.group(2)));
        }
        Map<String, Integer> java = new LinkedHashMap<>();
        for (OpCode op : OpCode.values()) {
            java.put(op.name(), op.code());
        }
        assertThat(native_).isEqualTo(java);
    }

    @Test
    void aMonitorOpGoesFirstAndTheForkStillNamesTheInitsTail() {
        Plan p = new Plan(java.util.List.of(Op.clone(0, -1), Op.of(OpCode.FORK, 3L), Op.of(OpCode.SETSID),
                Op.of(OpCode.REAP)));
        Plan m = p.withMonitor(Op.of(OpCode.MONITOR, OpCode.MONITOR_DETACH, 5L, -1L, 4096L, 1L));
        org.assertj.core.api.Assertions.assertThat(m.ops().get(0).code()).isEqualTo(OpCode.MONITOR);
        org.assertj.core.api.Assertions.assertThat(m.ops().get(2).args()).containsExactly(4L);
        org.assertj.core.api.Assertions.assertThat(m.ops().get(4).code()).isEqualTo(OpCode.REAP);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> m.withMonitor(m.ops().get(0)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void anExitCommandGoesRightAfterTheMonitorAndTheForkStillNamesTheInitsTail() {
        Plan p = new Plan(java.util.List.of(Op.clone(0, -1), Op.of(OpCode.FORK, 3L), Op.of(OpCode.SETSID),
                Op.of(OpCode.REAP))).withMonitor(Op.of(OpCode.MONITOR, OpCode.MONITOR_DETACH, 5L, -1L, 4096L, 1L));
        Op cmd = Op.exitCommand(java.util.List.of("/usr/bin/java", "-cp", "x"), java.util.List.of("PATH=/bin"));
        Plan e = p.withExitCommand(cmd);
        org.assertj.core.api.Assertions.assertThat(e.ops()).extracting(Op::code).startsWith(OpCode.MONITOR,
                OpCode.EXIT_COMMAND, OpCode.CLONE);
        org.assertj.core.api.Assertions.assertThat(e.ops().get(1).args()).containsExactly(3L, "/usr/bin/java", "-cp",
                "x", "PATH=/bin");
        org.assertj.core.api.Assertions.assertThat(e.ops().get(3).args()).containsExactly(5L);
        org.assertj.core.api.Assertions.assertThat(e.ops().get(5).code()).isEqualTo(OpCode.REAP);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> e.withExitCommand(cmd))
                .isInstanceOf(IllegalArgumentException.class);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Op.exitCommand(java.util.List.of("java"),
                java.util.List.of())).hasMessageContaining("argv[0] must be an absolute path");
    }
}
