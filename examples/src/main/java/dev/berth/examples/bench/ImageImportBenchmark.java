package dev.berth.examples.bench;

import dev.berth.image.Image;
import dev.berth.image.ImageStore;
import dev.berth.image.ImportProgress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Cold import + unpack of one image into an empty store, in this JVM. Prints two wall times in
 * milliseconds: <em>ready</em>, from opening the store until {@code importImage} and {@code
 * prepare} return (every layer unpacked and its DiffID verified: a container can start), and
 * <em>durable</em>, until the store is closed (its background {@code syncfs} done: the import
 * survives a power loss). examples/bench/image-import.sh runs it beside umoci and tar.
 *
 * <p>With {@code --warmup N} the JVM first imports the same image N times into throw-away stores
 * next to STORE-DIR (synced before the timed run), which measures Berth as a library in a
 * long-running JVM rather than a JVM's first seconds.
 *
 * <p>Usage: {@code ImageImportBenchmark IMAGE-LAYOUT STORE-DIR [--warmup N]}
 */
public final class ImageImportBenchmark {
  public static void main(String[] args) throws Exception {
    Path layout = Path.of(args[0]);
    Path storeDir = Path.of(args[1]);
    int warmups = args.length >= 4 && args[2].equals("--warmup") ? Integer.parseInt(args[3]) : 0;
    if (Files.exists(storeDir)) {
      throw new IllegalStateException(storeDir + " exists: the benchmark needs an empty store");
    }
    for (int i = 0; i < warmups; i++) {
      Path warm = storeDir.resolveSibling(storeDir.getFileName() + ".warmup-" + i);
      run(layout, warm);
    }
    if (warmups > 0) {
      // nothing of the warm-up may still be in flight when the timed run starts
      new ProcessBuilder("sync", "-f", storeDir.getParent().toString()).inheritIO().start().waitFor();
    }
    long[] t = run(layout, storeDir);
    System.out.printf("%d %d%n", t[0], t[1]);
  }

  private static long[] run(Path layout, Path storeDir) throws Exception {
    long t0 = System.nanoTime();
    long ready;
    try (ImageStore store = ImageStore.open(storeDir)) {
      Image image = store.importImage(layout, Optional.of("bench/import:1"), ImportProgress.NONE);
      store.prepare(image.name()).close();
      ready = System.nanoTime();
    }
    long durable = System.nanoTime();
    return new long[] {(ready - t0) / 1_000_000, (durable - t0) / 1_000_000};
  }
}
