package dev.berth.image;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.image.Fixtures.Layer;
import dev.berth.image.Fixtures.Tar;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * zstd decoders are freed on every path. A zstd-jni decoder holds native memory (its context and
 * a window buffer as large as the layer's window, here 1 MiB) that no cleaner frees: a decoder not
 * closed stays allocated for the life of the process. A child JVM imports zstd layers {@value
 * #ROUNDS} times after {@value #WARMUP} warm-up rounds, each round three decoders: a good layer
 * (imported, then removed so the next round unpacks it again), the same layer under a wrong DiffID
 * (fails after the whole stream) and a corrupted stream (fails mid-stream). Its resident set may
 * not grow by more than {@value #BOUND_MIB} MiB over those rounds.
 *
 * <p>The bound: unclosed decoders cost at least the 1 MiB window each, two full ones per round,
 * so at least {@value #ROUNDS} * 2 MiB = 400 MiB over the measured rounds; measured with the
 * decoders left open, +750 MiB (about 3.7 MiB a round). With them closed the growth measured
 * +20 MiB, and +18 MiB over 600 rounds: a plateau (JIT, metaspace, malloc arenas settling), not a
 * slope. The child's heap is fixed and touched up front ({@code -Xms=-Xmx}, {@code
 * AlwaysPreTouch}), compilation is C1 only and glibc keeps two malloc arenas, which keeps that
 * noise small; 64 MiB is three times the plateau, for a busy machine, and a tenth of the leak.
 */
class ZstdNativeMemoryIT {
  static final int WARMUP = 40;
  static final int ROUNDS = 200;
  static final int BOUND_MIB = 64;
  static final int LAYER_BYTES = 1 << 20;

  @TempDir Path tmp;

  @Test
  void repeatedZstdImportsKeepNativeMemoryBounded() throws Exception {
    byte[] random = new byte[LAYER_BYTES];
    new Random(42).nextBytes(random);
    TarArchiveEntry e = new TarArchiveEntry("data.bin", TarArchiveEntry.LF_NORMAL, true);
    e.setMode(0644);
    e.setSize(random.length);
    byte[] tar = new Tar().entry(e, random).bytes();
    Layer good = Layer.zstd(tar);
    Fixtures.writeLayout(tmp.resolve("good"), "t", List.of(good), null);
    // the same blob under another DiffID: decoded to the end, then refused
    byte[] other = Arrays.copyOf(tar, tar.length);
    other[other.length - 1] = 1;
    Fixtures.writeLayout(tmp.resolve("wrong-diffid"), "t", List.of(new Layer(good.blob(), good.mediaType(), other)), null);
    // a stream corrupted in its middle: the decoder fails part way (the blob digest matches it)
    byte[] corrupt = Arrays.copyOf(good.blob(), good.blob().length);
    for (int i = corrupt.length / 2; i < corrupt.length / 2 + 64; i++) {
      corrupt[i] ^= 0x5a;
    }
    Fixtures.writeLayout(tmp.resolve("corrupt"), "t", List.of(new Layer(corrupt, good.mediaType(), tar)), null);

    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xms64m", "-Xmx64m", "-XX:+AlwaysPreTouch", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        "-Dorg.slf4j.simpleLogger.defaultLogLevel=error",
        "-cp", System.getProperty("java.class.path"),
        ZstdNativeMemoryIT.class.getName(),
        tmp.toString()));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("MALLOC_ARENA_MAX", "2");
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(600, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    long before = kib(out, "rss-after-warmup");
    long after = kib(out, "rss-after-rounds");
    System.out.printf("zstd imports: RSS %d KiB after %d warm-up rounds, %d KiB after %d more (%+d KiB)%n",
        before, WARMUP, after, ROUNDS, after - before);
    assertThat(after - before).as(out).isLessThan(BOUND_MIB * 1024L);
  }

  static long kib(String out, String key) {
    return out.lines().filter(l -> l.startsWith(key + " ")).mapToLong(l -> Long.parseLong(l.substring(key.length() + 1)))
        .findFirst().orElseThrow(() -> new AssertionError("no " + key + " in: " + out));
  }

  /** The child: imports as described above and prints its resident set size (KiB) before and after. */
  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    try (ImageStore store = ImageStore.open(dir.resolve("store"))) {
      for (int i = 0; i < WARMUP + ROUNDS; i++) {
        if (i == WARMUP) {
          System.out.println("rss-after-warmup " + rssKib());
        }
        store.importImage(dir.resolve("good"), Optional.of("good:t"), ImportProgress.NONE);
        if (!store.remove("good:t")) {
          throw new AssertionError("good:t was not imported");
        }
        for (String failing : List.of("wrong-diffid", "corrupt")) {
          try {
            store.importImage(dir.resolve(failing), Optional.of(failing + ":t"), ImportProgress.NONE);
            throw new AssertionError(failing + " imported");
          } catch (ImageException expected) {
            // each failure frees its decoder too
          }
        }
      }
      System.out.println("rss-after-rounds " + rssKib());
    }
  }

  static long rssKib() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    throw new IOException("no VmRSS in /proc/self/status");
  }
}
