package dev.berth.cgroups.internal;

import static dev.berth.cgroups.DeviceRule.ANY;
import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.cgroups.DeviceRule;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Runs the compiled device programs in a small interpreter of the eBPF instructions they use and
 * checks every verdict against {@link DevicePolicy#permits}, the semantics the v1 kernel applies.
 */
class DeviceFilterProgramTest {
  private static final DeviceRule.Type[] TYPES = {DeviceRule.Type.CHAR, DeviceRule.Type.BLOCK};
  private static final long[] MAJORS = {0, 1, 5, 7, 136, 4095};
  private static final long[] MINORS = {0, 1, 3, 5, 1048575};
  private static final String[] ACCESS = {"r", "w", "m", "rw", "rm", "wm", "rwm"};

  /** Executes the program for one request; returns r0. */
  static long run(byte[] program, int type, int access, long major, long minor) {
    ByteBuffer code = ByteBuffer.wrap(program).order(ByteOrder.LITTLE_ENDIAN);
    int n = program.length / DeviceFilterProgram.INSN_SIZE;
    long[] reg = new long[11];
    int[] ctx = {(access << 16) | type, (int) major, (int) minor};
    int pc = 0;
    for (int steps = 0; steps < 10_000; steps++) {
      if (pc < 0 || pc >= n) throw new AssertionError("jump out of the program to " + pc);
      int op = code.get(pc * 8) & 0xff;
      int regs = code.get(pc * 8 + 1) & 0xff;
      int dst = regs & 0xf;
      int src = regs >> 4;
      short off = code.getShort(pc * 8 + 2);
      long imm = code.getInt(pc * 8 + 4); // sign-extended, as the kernel does
      pc++;
      if (op == DeviceFilterProgram.LDX_MEM_W) {
        assertThat(src).as("loads from the context").isEqualTo(1);
        reg[dst] = ctx[off / 4] & 0xffffffffL;
      } else if (op == DeviceFilterProgram.ALU64_MOV_X) {
        reg[dst] = reg[src];
      } else if (op == DeviceFilterProgram.ALU64_MOV_K) {
        reg[dst] = imm;
      } else if (op == DeviceFilterProgram.ALU64_AND_K) {
        reg[dst] &= imm;
      } else if (op == DeviceFilterProgram.ALU64_RSH_K) {
        reg[dst] >>>= imm;
      } else if (op == DeviceFilterProgram.JMP_JEQ_K) {
        pc += reg[dst] == imm ? off : 0;
      } else if (op == DeviceFilterProgram.JMP_JNE_K) {
        pc += reg[dst] != imm ? off : 0;
      } else if (op == DeviceFilterProgram.JMP_EXIT) {
        return reg[0];
      } else {
        throw new AssertionError("unexpected opcode 0x" + Integer.toHexString(op));
      }
    }
    throw new AssertionError("no exit");
  }

  private static void assertAgrees(DevicePolicy policy) {
    byte[] prog = DeviceFilterProgram.compile(policy);
    for (DeviceRule.Type t : TYPES) {
      int bpfType = t == DeviceRule.Type.CHAR ? DeviceFilterProgram.BPF_DEVCG_DEV_CHAR : DeviceFilterProgram.BPF_DEVCG_DEV_BLOCK;
      for (long major : MAJORS) {
        for (long minor : MINORS) {
          for (String a : ACCESS) {
            long verdict = run(prog, bpfType, DeviceFilterProgram.accessBits(a), major, minor);
            assertThat(verdict).as("%s %s %d:%d %s", policy, t, major, minor, a)
                .isEqualTo(policy.permits(t, major, minor, a) ? 1 : 0);
          }
        }
      }
    }
  }

  @Test
  void theContainerDefaultPolicy() {
    DevicePolicy p = DevicePolicy.of(DevicePolicyTest.CONTAINER);
    assertAgrees(p);
    byte[] prog = DeviceFilterProgram.compile(p);
    assertThat(run(prog, DeviceFilterProgram.BPF_DEVCG_DEV_BLOCK, DeviceFilterProgram.BPF_DEVCG_ACC_READ, 7, 0))
        .as("a loop device").isZero();
    assertThat(run(prog, DeviceFilterProgram.BPF_DEVCG_DEV_CHAR, DeviceFilterProgram.BPF_DEVCG_ACC_READ
        | DeviceFilterProgram.BPF_DEVCG_ACC_WRITE, 1, 3)).as("/dev/null").isEqualTo(1);
  }

  @Test
  void emptyAndAllowAllPolicies() {
    assertAgrees(DevicePolicy.of(List.of(DeviceRule.denyAll())));
    assertAgrees(DevicePolicy.of(List.of(DeviceRule.allowAll())));
    assertAgrees(DevicePolicy.of(List.of(DeviceRule.allowAll(), DeviceRule.deny(DeviceRule.Type.BLOCK, ANY, ANY, "rw"))));
  }

  @Test
  void randomRuleListsAgreeWithTheReference() {
    Random rnd = new Random(20261201);
    int checked = 0;
    for (int round = 0; round < 400; round++) {
      List<DeviceRule> rules = new ArrayList<>();
      int count = rnd.nextInt(8);
      for (int i = 0; i < count; i++) {
        if (rnd.nextInt(10) == 0) {
          rules.add(rnd.nextBoolean() ? DeviceRule.allowAll() : DeviceRule.denyAll());
          continue;
        }
        DeviceRule.Type t = TYPES[rnd.nextInt(2)];
        long major = rnd.nextInt(4) == 0 ? ANY : MAJORS[rnd.nextInt(MAJORS.length)];
        long minor = rnd.nextInt(4) == 0 ? ANY : MINORS[rnd.nextInt(MINORS.length)];
        rules.add(new DeviceRule(rnd.nextInt(3) > 0, t, major, minor, ACCESS[rnd.nextInt(ACCESS.length)]));
      }
      DevicePolicy policy;
      try {
        policy = DevicePolicy.of(rules);
      } catch (IllegalArgumentException inexpressible) {
        continue;
      }
      assertAgrees(policy);
      checked++;
    }
    assertThat(checked).as("rule lists that fold").isGreaterThan(100);
  }
}
