package dev.berth.examples.cli;

import dev.berth.image.Descriptor;
import dev.berth.image.Digest;
import dev.berth.image.ImportProgress;
import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/** One terminal line, redrawn in place: bytes copied of the total, blobs stored, layers unpacked. */
final class ProgressBar implements ImportProgress {
    private static final int WIDTH = 30;
    private final PrintStream out;
    private final AtomicLong copied = new AtomicLong();
    private final AtomicLong total = new AtomicLong();
    private final AtomicInteger blobsDone = new AtomicInteger();
    private final AtomicInteger blobsTotal = new AtomicInteger();
    private final AtomicInteger layers = new AtomicInteger();
    private long lastDraw;

    ProgressBar(PrintStream out) {
        this.out = out;
    }

    @Override
    public void blobStarted(Descriptor blob, int totalBlobs) {
        blobsTotal.set(totalBlobs);
        total.addAndGet(blob.size());
        draw(false);
    }

    @Override
    public void blobProgress(Descriptor blob, long bytes) {
        copied.addAndGet(bytes);
        draw(false);
    }

    @Override
    public void blobDone(Descriptor blob) {
        blobsDone.incrementAndGet();
        draw(true);
    }

    @Override
    public void layerUnpacked(Digest diffId, long bytesWritten) {
        layers.incrementAndGet();
        draw(true);
    }

    void finish() {
        draw(true);
        out.println();
    }

    static String render(long copied, long total, int blobsDone, int blobsTotal, int layers) {
        int filled = total <= 0 ? 0 : (int) Math.min(WIDTH, copied * WIDTH / total);
        return String.format(Locale.ROOT, "[%s%s] %s / %s  blobs %d/%d  layers unpacked %d",
                "=".repeat(filled), " ".repeat(WIDTH - filled), mib(copied), mib(total), blobsDone, blobsTotal, layers);
    }

    private static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
    }

    private synchronized void draw(boolean force) {
        long now = System.nanoTime();
        if (!force && now - lastDraw < 100_000_000L) {
            return;
        }
        lastDraw = now;
        out.print("\r" + render(copied.get(), total.get(), blobsDone.get(), blobsTotal.get(), layers.get()));
        out.flush();
    }
}
