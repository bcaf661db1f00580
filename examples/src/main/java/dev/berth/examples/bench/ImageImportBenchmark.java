package dev.berth.examples.bench;

import dev.berth.image.Image;
import dev.berth.image.ImageStore;
import dev.berth.image.ImportProgress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Cold import + unpack of one image into an empty store, in this JVM: prints the wall time in
 * milliseconds of {@code importImage} followed by {@code prepare} (every layer unpacked and
 * its DiffID verified). examples/bench/image-import.sh runs it beside umoci and tar.
 *
 * <p>Usage: {@code ImageImportBenchmark IMAGE-LAYOUT STORE-DIR}
 */
public final class ImageImportBenchmark {
    public static void main(String[] args) throws Exception {
        Path layout = Path.of(args[0]);
        Path storeDir = Path.of(args[1]);
        if (Files.exists(storeDir)) {
            throw new IllegalStateException(storeDir + " exists: the benchmark needs an empty store");
        }
        long t0 = System.nanoTime();
        try (ImageStore store = ImageStore.open(storeDir)) {
            Image image = store.importImage(layout, Optional.of("bench/import:1"), ImportProgress.NONE);
            store.prepare(image.name()).close();
            long t1 = System.nanoTime();
            System.out.printf("%.0f%n", (t1 - t0) / 1e6);
        }
    }
}
