package dev.berth.image.internal;

import dev.berth.image.internal.linux.LinuxFs;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.channels.FileChannel;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Durability of a store's commits, kept off the import's critical path.
 *
 * <p>A commit (a blob, a layer directory or a ref renamed into place) is visible at once, but its
 * data reaches the disk only when the kernel writes it back. Waiting for that in every import
 * (one {@code syncfs} per layer) cost more than a second per image on the machines we measured.
 * Instead, before the rename, an <em>intent marker</em> naming the objects and the current boot
 * is written to {@code pending/} and fsynced (a few hundred microseconds); after the rename a
 * background thread runs one {@code syncfs} for everything committed so far and then drops the
 * markers. {@link #awaitDurable()} waits for that; closing the store does too.
 *
 * <p>A marker that survives names exactly the objects whose data may not be on disk. {@link
 * #recover} runs when a store is opened by its only user: markers written in the current boot
 * (the process died, the page cache did not) are synced and dropped, keeping the objects; markers
 * of an earlier boot (power loss, kernel crash) are undone, deleting the objects and restoring a
 * replaced ref. So after any crash a committed object is either durable or gone, never present
 * and empty: the failure behind containerd#5854 and the reason containerd added an opt-in
 * {@code sync_fs} (containerd#9401), which costs the wait we avoid here.
 *
 * <p>Marker format, one action per line after the first:
 *
 * <pre>
 * boot &lt;boot id&gt;
 * remove &lt;path relative to the store root&gt;
 * restore &lt;path&gt; &lt;previous content, one line&gt;
 * end
 * </pre>
 *
 * <p>An intent without its {@code end} line was torn by the crash while being written, before
 * its fsync and so before any rename: it is dropped, never acted on (a torn {@code remove
 * layers/sha256/...} line could otherwise name the whole {@code layers} directory). Paths must
 * also have the shape of a store object ({@code blobs|layers/<alg>/<hex>}, {@code l/<id>},
 * {@code refs/<name>}).</p>
 */
public final class DeferredSync implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(DeferredSync.class);
  private static final String SUFFIX = ".intent";
  private static final String END = "end";
  private static final java.util.regex.Pattern OBJECT = java.util.regex.Pattern.compile(
      "(blobs|layers)/sha(256|512)/[0-9a-f]{64,128}|l/[A-Z2-7]{26}|refs/[A-Za-z0-9%._+~-]+");

  /** One intent written to {@code pending/}. */
  private static final class Intent {
    private final Path file;

    private Intent(Path file) {
      this.file = file;
    }
  }

  private final Path root;
  private final Path pendingDir;
  private final String bootId;
  private final Object monitor = new Object();
  private final List<Intent> queued = new ArrayList<>();
  private long committedSeq;
  private long syncedSeq;
  private IOException failure;
  private boolean closed;
  private Thread syncer;
  private int busy;
  private int waiting;
  private long firstQueuedAt;

  /** The longest a commit waits for its syncfs while the store stays busy. */
  static final long MAX_DEFER_NANOS = 10_000_000_000L;

  public DeferredSync(Path root, Path pendingDir, String bootId) throws IOException {
    this.root = root;
    this.pendingDir = pendingDir;
    this.bootId = bootId;
    Files.createDirectories(pendingDir);
  }

  /** The kernel's id of the current boot. */
  public static String currentBootId() throws IOException {
    return Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).trim();
  }

  /** An action of an intent: remove an object, or restore a file to a previous one-line content. */
  public record Action(String verb, String path, String previous) {
    public static Action remove(Path root, Path object) {
      return new Action("remove", relative(root, object), null);
    }

    public static Action restore(Path root, Path object, String previous) {
      if (previous.indexOf('\n') >= 0) {
        throw new IllegalArgumentException("previous content must be one line: " + object);
      }
      return new Action("restore", relative(root, object), previous);
    }

    private static String relative(Path root, Path object) {
      Path rel = root.relativize(object).normalize();
      if (rel.isAbsolute() || rel.toString().isEmpty() || rel.startsWith("..")) {
        throw new IllegalArgumentException(object + " is not inside the store " + root);
      }
      return rel.toString();
    }

    String line() {
      return previous == null ? verb + " " + path : verb + " " + path + " " + previous;
    }
  }

  /** The renames (or writes) of one commit. */
  @FunctionalInterface
  public interface Commit {
    void run() throws IOException;
  }

  /**
   * Runs {@code commit} crash-safely: the intent naming how to undo it ({@code undo}) is on disk
   * before the commit starts, and whatever the commit renamed becomes durable with the next
   * background syncfs, also when it failed half-way.
   */
  public void commit(List<Action> undo, Commit commit) throws IOException {
    Intent intent = intent(undo);
    try {
      commit.run();
    } finally {
      committed(intent);
    }
  }

  /** Durably records an intent: one small write, an fsync of it and of {@code pending/}. */
  private Intent intent(List<Action> actions) throws IOException {
    StringBuilder sb = new StringBuilder("boot ").append(bootId).append('\n');
    for (Action a : actions) {
      sb.append(a.line()).append('\n');
    }
    sb.append(END).append('\n');
    Path f = pendingDir.resolve(Files2.randomId() + SUFFIX);
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      ByteBuffer b = ByteBuffer.wrap(sb.toString().getBytes(StandardCharsets.UTF_8));
      while (b.hasRemaining()) {
        ch.write(b);
      }
      ch.force(true);
    } catch (IOException e) {
      Files.deleteIfExists(f);
      throw new IOException("writing intent " + f + ": " + e.getMessage(), e);
    }
    Files2.fsyncDir(pendingDir);
    return new Intent(f);
  }

  /** The renames happened: the objects become durable with the next background syncfs. */
  private void committed(Intent intent) {
    synchronized (monitor) {
      queued.add(intent);
      committedSeq++;
      if (queued.size() == 1) {
        firstQueuedAt = System.nanoTime();
      }
      if (syncer == null || !syncer.isAlive()) {
        // started lazily, and again should a closing store still see a commit land
        syncer = new Thread(this::run, "berth-image-sync");
        syncer.setDaemon(true);
        syncer.start();
      }
      monitor.notifyAll();
    }
  }

  /**
   * Marks the store busy (an import or unpack in flight) until the handle is closed. Background
   * syncs wait for a quiet moment, at most {@link #MAX_DEFER_NANOS}: a syncfs started in the
   * middle of an import makes the kernel write back (and allocate blocks for) everything the import
   * wrote so far, on the same CPUs and disk the import needs, which slowed imports by a fifth.
   */
  public Busy busy() {
    synchronized (monitor) {
      busy++;
    }
    return new Busy();
  }

  /** See {@link #busy()}. */
  public final class Busy implements AutoCloseable {
    private boolean open = true;

    private Busy() {}

    @Override
    public void close() {
      synchronized (monitor) {
        if (open) {
          open = false;
          busy--;
          monitor.notifyAll();
        }
      }
    }
  }

  /** Blocks until everything committed before this call is on stable storage. */
  public void awaitDurable() throws IOException {
    synchronized (monitor) {
      long target = committedSeq;
      waiting++;
      monitor.notifyAll();
      try {
        while (syncedSeq < target) {
          try {
            monitor.wait();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for syncfs of " + root);
          }
        }
      } finally {
        waiting--;
      }
      if (failure != null) {
        // sticky: data of a failed batch may be lost, so nothing after it can be called durable
        throw new IOException(failure.getMessage(), failure);
      }
    }
  }

  /** The background thread: one syncfs per batch of commits, the monitor released meanwhile. */
  private void run() {
    while (true) {
      List<Intent> batch;
      long upTo;
      synchronized (monitor) {
        while (true) {
          long deferLeft = firstQueuedAt + MAX_DEFER_NANOS - System.nanoTime();
          boolean due = !queued.isEmpty() && (busy == 0 || waiting > 0 || closed || deferLeft <= 0);
          if (due || (queued.isEmpty() && closed)) {
            break;
          }
          try {
            if (queued.isEmpty()) {
              monitor.wait();
            } else {
              monitor.wait(Math.max(1, deferLeft / 1_000_000));
            }
          } catch (InterruptedException e) {
            return;
          }
        }
        if (queued.isEmpty()) {
          return;
        }
        batch = new ArrayList<>(queued);
        queued.clear();
        upTo = committedSeq;
      }
      IOException error = syncAndDrop(batch);
      synchronized (monitor) {
        if (error != null) {
          // waiters of this batch see the failure; its intents stay on disk for recovery
          failure = error;
        }
        syncedSeq = Math.max(syncedSeq, upTo);
        monitor.notifyAll();
      }
    }
  }

  private IOException syncAndDrop(List<Intent> batch) {
    try {
      syncFilesystem(root);
    } catch (IOException e) {
      LOG.error("{}; {} commits stay pending until the store is reopened", e.getMessage(), batch.size());
      return e;
    }
    for (Intent i : batch) {
      try {
        Files.deleteIfExists(i.file);
      } catch (IOException e) {
        LOG.warn("dropping intent {}: {}", i.file, e.getMessage());
      }
    }
    Files2.fsyncDir(pendingDir);
    return null;
  }

  static void syncFilesystem(Path root) throws IOException {
    int fd = LinuxFs.openat(LinuxFs.AT_FDCWD, root.toString(), LinuxFs.O_RDONLY | LinuxFs.O_DIRECTORY | LinuxFs.O_CLOEXEC, 0);
    try {
      LinuxFs.syncFs(fd, root.toString());
    } finally {
      LinuxFs.closeFd(fd);
    }
  }

  /** Waits for outstanding syncs and stops the background thread. */
  @Override
  public void close() {
    Thread t;
    synchronized (monitor) {
      closed = true;
      monitor.notifyAll();
      t = syncer;
    }
    try {
      awaitDurable();
    } catch (IOException e) {
      LOG.warn("closing {}: {}", root, e.getMessage());
    }
    if (t != null) {
      try {
        t.join(10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * Settles the intents a crashed user of the store left behind; the caller guarantees nobody
   * else uses the store. Returns how many objects were undone.
   */
  public static int recover(Path root, Path pendingDir, String bootId) throws IOException {
    if (!Files.isDirectory(pendingDir)) {
      return 0;
    }
    List<Path> intents;
    try (Stream<Path> s = Files.list(pendingDir)) {
      intents = s.filter(p -> p.getFileName().toString().endsWith(SUFFIX)).sorted().toList();
    }
    List<Path> sameBoot = new ArrayList<>();
    int undone = 0;
    for (Path f : intents) {
      List<String> lines;
      try {
        lines = Files.readAllLines(f, StandardCharsets.UTF_8);
      } catch (NoSuchFileException e) {
        continue;
      }
      if (lines.size() < 2 || !lines.get(0).startsWith("boot ") || !lines.get(lines.size() - 1).equals(END)) {
        // torn while being written, so before its fsync: its renames never started
        LOG.debug("dropping incomplete intent {}", f);
        Files.deleteIfExists(f);
        continue;
      }
      if (lines.get(0).substring(5).equals(bootId)) {
        sameBoot.add(f);
        continue;
      }
      for (String line : lines.subList(1, lines.size() - 1)) {
        undone += undo(root, line, f);
      }
      Files.deleteIfExists(f);
    }
    if (!sameBoot.isEmpty()) {
      // the data is intact in the page cache: make it durable and keep it
      syncFilesystem(root);
      for (Path f : sameBoot) {
        Files.deleteIfExists(f);
      }
    }
    Files2.fsyncDir(pendingDir);
    return undone;
  }

  private static int undo(Path root, String line, Path intent) throws IOException {
    String[] parts = line.split(" ", 3);
    if (parts.length < 2) {
      LOG.warn("{}: ignoring malformed line `{}`", intent, line);
      return 0;
    }
    Path target = root.resolve(parts[1]).normalize();
    if (!OBJECT.matcher(parts[1]).matches() || !target.startsWith(root) || target.equals(root)) {
      LOG.warn("{}: ignoring `{}`: not a store object", intent, line);
      return 0;
    }
    switch (parts[0]) {
      case "remove":
        if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
          LOG.warn("removing {}: committed just before a crash, its data may not have reached the disk", target);
          Path doomed = target.resolveSibling(".tmp-rm-" + Files2.randomId());
          Files.move(target, doomed);
          Files2.deleteTree(doomed);
          return 1;
        }
        return 0;
      case "restore":
        if (parts.length < 3) {
          LOG.warn("{}: ignoring malformed line `{}`", intent, line);
          return 0;
        }
        LOG.warn("restoring {} to {}: it was replaced just before a crash", target, parts[2]);
        Files2.writeAtomically(target, (parts[2] + "\n").getBytes(StandardCharsets.UTF_8));
        return 1;
      default:
        LOG.warn("{}: ignoring unknown action `{}`", intent, line);
        return 0;
    }
  }
}
