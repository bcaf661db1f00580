package dev.berth.examples.cli;

import dev.berth.image.Descriptor;
import dev.berth.image.Digest;
import dev.berth.image.ImportProgress;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A progress bar per layer on a terminal, as docker pull draws them: each blob gets a line with its
 * short digest, a bar, bytes of the total, rate and ETA, redrawn in place (ANSI cursor-up) at most
 * ten times a second; a layer that was present says so. Written here rather than taken from a
 * library: the drawing is forty lines, and the launcher's start-up and dependency list stay small.
 */
final class PullProgress implements ImportProgress {
    private static final int WIDTH = 25;

    private final PrintStream out;
    private final Map<Digest, Line> lines = new LinkedHashMap<>();
    private int drawn;
    private long lastDraw;

    private static final class Line {
        final Descriptor blob;
        final long started = System.nanoTime();
        long bytes;
        String state = "waiting";

        Line(Descriptor blob) {
            this.blob = blob;
        }
    }

    PullProgress(PrintStream out) {
        this.out = out;
    }

    private Line line(Descriptor d) {
        return lines.computeIfAbsent(d.digest(), k -> new Line(d));
    }

    @Override
    public synchronized void blobStarted(Descriptor blob, int totalBlobs) {
        line(blob).state = "downloading";
        draw(true);
    }

    @Override
    public synchronized void blobProgress(Descriptor blob, long bytes) {
        line(blob).bytes += bytes;
        draw(false);
    }

    @Override
    public synchronized void blobDone(Descriptor blob) {
        Line l = line(blob);
        l.state = l.state.equals("waiting") ? "already exists" : "verified";
        draw(true);
    }

    @Override
    public synchronized void layerUnpacked(Digest diffId, long bytesWritten) {
        // reported by DiffID; the blob's line says "verified" once stored, which is after the unpack
    }

    synchronized void finish() {
        draw(true);
    }

    static String render(String shortDigest, long bytes, long total, double seconds, String state) {
        if (state.equals("already exists") || state.equals("waiting")) {
            return String.format(Locale.ROOT, "%s: %s", shortDigest, state);
        }
        int filled = total <= 0 ? WIDTH : (int) Math.min(WIDTH, bytes * WIDTH / total);
        double rate = seconds > 0 ? bytes / seconds : 0;
        String eta = rate <= 0 || bytes >= total ? "" : "  ETA " + Math.round((total - bytes) / rate) + "s";
        return String.format(Locale.ROOT, "%s: [%s%s] %s / %s  %s/s%s%s", shortDigest, "=".repeat(filled),
                " ".repeat(WIDTH - filled), size(bytes), size(total), size((long) rate), eta,
                state.equals("verified") ? "  verified" : "");
    }

    static String size(long bytes) {
        if (bytes < 1024 * 1024) {
            return String.format(Locale.ROOT, "%.1f KiB", bytes / 1024.0);
        }
        return String.format(Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
    }

    private void draw(boolean force) {
        long now = System.nanoTime();
        if (!force && now - lastDraw < 100_000_000L) {
            return;
        }
        lastDraw = now;
        StringBuilder sb = new StringBuilder();
        if (drawn > 0) {
            sb.append("\033[").append(drawn).append('A');
        }
        List<Line> all = new ArrayList<>(lines.values());
        for (Line l : all) {
            sb.append('\r').append(render(l.blob.digest().hex().substring(0, 12), l.bytes, l.blob.size(),
                    (now - l.started) / 1e9, l.state)).append("\033[K\n");
        }
        drawn = all.size();
        out.print(sb);
        out.flush();
    }
}
