package dev.berth.cgroups.internal;

import dev.berth.cgroups.DeviceRule;
import dev.berth.linux.internal.LinuxConstants;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Compiles a {@link DevicePolicy} into a {@code BPF_PROG_TYPE_CGROUP_DEVICE} program: cgroup v2 has
 * no devices controller, the kernel asks such a program attached to the cgroup instead. The
 * program reads {@code struct bpf_cgroup_dev_ctx {u32 access_type; u32 major; u32 minor;}} (type in
 * the low 16 bits of access_type, access bits above) and returns 1 to allow, 0 to deny.
 *
 * <pre>
 *   r2 = ctx->access_type; r3 = r2 &amp; 0xffff (type); r4 = r2 &gt;&gt; 16 (access)
 *   r5 = ctx->major; r6 = ctx->minor
 *   per exception: skip to the next unless type, access, major and minor match; r0 = !default; exit
 *   r0 = default; exit
 * </pre>
 *
 * <p>Loads are 32-bit and zero-extend, so comparing the 64-bit registers with the (positive,
 * validated) immediates is exact. No map, no helper call, no loop: the verifier accepts it on every
 * kernel with the program type (4.15).
 */
public final class DeviceFilterProgram {
  /** Size of one instruction: {@code struct bpf_insn}. */
  public static final int INSN_SIZE = 8;

  static final int BPF_DEVCG_DEV_BLOCK = LinuxConstants.BPF_DEVCG_DEV_BLOCK;
  static final int BPF_DEVCG_DEV_CHAR = LinuxConstants.BPF_DEVCG_DEV_CHAR;
  static final int BPF_DEVCG_ACC_MKNOD = LinuxConstants.BPF_DEVCG_ACC_MKNOD;
  static final int BPF_DEVCG_ACC_READ = LinuxConstants.BPF_DEVCG_ACC_READ;
  static final int BPF_DEVCG_ACC_WRITE = LinuxConstants.BPF_DEVCG_ACC_WRITE;

  static final int LDX_MEM_W = LinuxConstants.BPF_OP_LDX_MEM_W;
  static final int ALU64_MOV_X = LinuxConstants.BPF_OP_ALU64_MOV_X;
  static final int ALU64_MOV_K = LinuxConstants.BPF_OP_ALU64_MOV_K;
  static final int ALU64_AND_K = LinuxConstants.BPF_OP_ALU64_AND_K;
  static final int ALU64_RSH_K = LinuxConstants.BPF_OP_ALU64_RSH_K;
  static final int JMP_JEQ_K = LinuxConstants.BPF_OP_JMP_JEQ_K;
  static final int JMP_JNE_K = LinuxConstants.BPF_OP_JMP_JNE_K;
  static final int JMP_EXIT = LinuxConstants.BPF_OP_JMP_EXIT;

  private DeviceFilterProgram() {}

  /** The program's instructions, {@link #INSN_SIZE} bytes each, in the machine's (little-endian) order. */
  public static byte[] compile(DevicePolicy policy) {
    List<long[]> insns = new ArrayList<>();
    emit(insns, LDX_MEM_W, 2, 1, 0, 0);
    emit(insns, ALU64_MOV_X, 3, 2, 0, 0);
    emit(insns, ALU64_AND_K, 3, 0, 0, 0xffff);
    emit(insns, ALU64_MOV_X, 4, 2, 0, 0);
    emit(insns, ALU64_RSH_K, 4, 0, 0, 16);
    emit(insns, LDX_MEM_W, 5, 1, 4, 0);
    emit(insns, LDX_MEM_W, 6, 1, 8, 0);
    int verdict = policy.defaultAllow() ? 0 : 1;
    for (DeviceRule e : policy.exceptions()) {
      List<long[]> block = new ArrayList<>();
      // Each test jumps to the end of this block; offsets are patched once its length is known.
      block.add(insn(JMP_JNE_K, 3, 0, 0, e.type() == DeviceRule.Type.BLOCK ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR));
      int bits = accessBits(e.access());
      block.add(insn(ALU64_MOV_X, 7, 4, 0, 0));
      if (policy.defaultAllow()) {
        // a deny exception matches when the request shares any access with it
        block.add(insn(ALU64_AND_K, 7, 0, 0, bits));
        block.add(insn(JMP_JEQ_K, 7, 0, 0, 0));
      } else {
        // an allow exception matches when it holds all of the requested access
        block.add(insn(ALU64_AND_K, 7, 0, 0, ~bits & 7));
        block.add(insn(JMP_JNE_K, 7, 0, 0, 0));
      }
      if (e.major() != DeviceRule.ANY) block.add(insn(JMP_JNE_K, 5, 0, 0, (int) e.major()));
      if (e.minor() != DeviceRule.ANY) block.add(insn(JMP_JNE_K, 6, 0, 0, (int) e.minor()));
      block.add(insn(ALU64_MOV_K, 0, 0, 0, verdict));
      block.add(insn(JMP_EXIT, 0, 0, 0, 0));
      for (int k = 0; k < block.size(); k++) {
        long[] in = block.get(k);
        if (in[0] == JMP_JNE_K || in[0] == JMP_JEQ_K) {
          in[3] = block.size() - k - 1; // to the first instruction after the block
        }
      }
      insns.addAll(block);
    }
    emit(insns, ALU64_MOV_K, 0, 0, 0, 1 - verdict);
    emit(insns, JMP_EXIT, 0, 0, 0, 0);
    ByteBuffer b = ByteBuffer.allocate(insns.size() * INSN_SIZE).order(ByteOrder.LITTLE_ENDIAN);
    for (long[] in : insns) {
      b.put((byte) in[0]);
      b.put((byte) ((in[2] << 4) | in[1])); // dst_reg in the low nibble, src_reg in the high one
      b.putShort((short) in[3]);
      b.putInt((int) in[4]);
    }
    return b.array();
  }

  /** The kernel's access bits for {@code "rwm"} letters. */
  static int accessBits(String access) {
    int bits = 0;
    if (access.indexOf('r') >= 0) bits |= BPF_DEVCG_ACC_READ;
    if (access.indexOf('w') >= 0) bits |= BPF_DEVCG_ACC_WRITE;
    if (access.indexOf('m') >= 0) bits |= BPF_DEVCG_ACC_MKNOD;
    return bits;
  }

  private static long[] insn(int code, int dst, int src, int off, int imm) {
    return new long[] {code, dst, src, off, imm};
  }

  private static void emit(List<long[]> out, int code, int dst, int src, int off, int imm) {
    out.add(insn(code, dst, src, off, imm));
  }
}
