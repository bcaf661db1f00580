package dev.berth.image;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who downloads a blob, across processes: {@code <root>/downloads/<alg>-<hex>.lock}, an fcntl lock
 * taken by whoever downloads the blob. Another process (or store of this JVM) waits for it and then
 * finds the blob stored; when the holder failed or died, the kernel released its lock and the waiter
 * downloads itself.
 *
 * <ul>
 *   <li>The file is removed by whoever holds its lock once the blob is stored (the holder, or a
 *       waiter that finds it stored): a waiter still locking the removed file then finds the blob
 *       stored too, so a stale name never leads to a second download. A failed download leaves the
 *       file for the next downloader to reuse; {@code downloads/} is emptied on open when nobody
 *       else uses the store.
 *   <li>A process closing any fd of a file drops all its fcntl locks on it, so within a JVM one
 *       thread at a time touches a lock file (a JVM-wide semaphore per file).
 *   <li>The holder touches the file's mtime as bytes arrive; a waiter that sees no progress for
 *       {@link #stall} downloads without the lock (one commit wins, as before), so a stuck holder
 *       delays a pull but never blocks it. {@code downloads/} is 0700 like every store area: no
 *       other user can create or lock its files. Waiting ends at once on interrupt or abort.
 * </ul>
 */
final class DownloadLocks {
  private static final Logger LOG = LoggerFactory.getLogger(DownloadLocks.class);
  private static final ConcurrentHashMap<Path, Slot> SLOTS = new ConcurrentHashMap<>();
  private static final long POLL_MS = 25;

  private final Path dir;
  /** How long a waiter accepts a holder without progress; a field for tests. */
  volatile Duration stall = Duration.ofSeconds(90);

  private static final class Slot {
    final Semaphore semaphore = new Semaphore(1);
    int users;
  }

  DownloadLocks(Path dir) {
    this.dir = dir;
  }

  /** Removes every lock file; only when no other process or store uses the store. */
  void clear() throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      for (Path p : (Iterable<Path>) s::iterator) {
        Files.deleteIfExists(p);
      }
    }
  }

  Path file(Digest d) {
    return dir.resolve(d.algorithm() + "-" + d.hex() + ".lock");
  }

  /** Updates the holder's progress mark at most this often. */
  private static final long TOUCH_NS = TimeUnit.MILLISECONDS.toNanos(500);

  /** The right to download one blob; {@link #close()} gives it up (removing the file once the blob is stored). */
  final class Held implements AutoCloseable {
    private final Path file;
    private final Slot slot;
    private final FileChannel channel; // null when waiting gave up on a stalled holder
    private final BooleanSupplier stored;
    private long touched = System.nanoTime();
    private boolean closed;

    private Held(Path file, Slot slot, FileChannel channel, BooleanSupplier stored) {
      this.file = file;
      this.slot = slot;
      this.channel = channel;
      this.stored = stored;
    }

    /** Whether this caller holds the lock (false: it downloads anyway after a stalled holder). */
    boolean locked() {
      return channel != null;
    }

    /** Marks progress for waiters (cheap; throttled). */
    void progress() {
      long now = System.nanoTime();
      if (channel == null || now - touched < TOUCH_NS) {
        return;
      }
      touched = now;
      try {
        // through the locked channel: Files.setLastModifiedTime opens and closes the file, and
        // closing any fd of it would drop this process's lock
        channel.write(java.nio.ByteBuffer.wrap(Long.toString(now).getBytes(java.nio.charset.StandardCharsets.US_ASCII)), 0);
      } catch (IOException e) {
        LOG.debug("touching {}: {}", file, e.toString());
      }
    }

    @Override
    public void close() throws IOException {
      if (closed) {
        return;
      }
      closed = true;
      try {
        if (channel != null && stored.getAsBoolean()) {
          Files.deleteIfExists(file); // still locked: every later locker of this name finds the blob stored
        }
      } finally {
        try {
          if (channel != null) {
            channel.close(); // releases the lock
          }
        } finally {
          if (channel != null) {
            slot.semaphore.release();
          }
          release(file, slot);
        }
      }
    }
  }

  /**
   * Takes the download lock of {@code d}, waiting while another process (or store) holds it. Returns
   * early (with the lock not held, {@link Held#locked()} false) when {@code stored} becomes true
   * meanwhile, or when the holder made no progress for {@link #stall}.
   *
   * @throws InterruptedIOException when the thread is interrupted or {@code aborted} becomes true
   */
  Held acquire(Digest d, BooleanSupplier stored, BooleanSupplier aborted) throws IOException {
    Path f = file(d);
    Slot slot = SLOTS.compute(f, (k, v) -> {
      Slot s = v == null ? new Slot() : v;
      s.users++;
      return s;
    });
    boolean ok = false;
    try {
      Held h = acquire(d, f, slot, stored, aborted);
      ok = true;
      return h;
    } finally {
      if (!ok) {
        release(f, slot);
      }
    }
  }

  private Held acquire(Digest d, Path f, Slot slot, BooleanSupplier stored, BooleanSupplier aborted)
      throws IOException {
    long lastProgress = System.nanoTime();
    FileTime lastMark = null;
    boolean logged = false;
    boolean inJvm = false; // this thread holds the JVM's semaphore of the file
    try {
      while (true) {
        if (Thread.currentThread().isInterrupted() || aborted.getAsBoolean()) {
          throw new InterruptedIOException("interrupted while another download of blob " + d + " was awaited");
        }
        if (!inJvm) {
          try {
            inJvm = slot.semaphore.tryAcquire(POLL_MS, TimeUnit.MILLISECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while another download of blob " + d + " was awaited");
          }
        }
        if (inJvm) {
          FileChannel ch;
          try {
            ch = FileChannel.open(f, Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
          } catch (IOException e) {
            throw new IOException("download lock " + f + ": " + e.getMessage(), e);
          }
          FileLock lock;
          try {
            lock = ch.tryLock();
          } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
          }
          if (lock != null) {
            Held h = new Held(f, slot, ch, stored);
            inJvm = false; // the semaphore is the Held's now
            return h;
          }
          ch.close(); // no lock of this JVM is on the file (the semaphore is ours): closing drops none
        }
        if (stored.getAsBoolean()) {
          return new Held(f, slot, null, stored);
        }
        FileTime mark = mark(f);
        if (mark != null && !mark.equals(lastMark)) {
          lastMark = mark;
          lastProgress = System.nanoTime();
        }
        if (!logged) {
          LOG.info("blob {} is being downloaded by another process; waiting for it", d);
          logged = true;
        }
        if (System.nanoTime() - lastProgress > stall.toNanos()) {
          LOG.warn("the other download of blob {} made no progress for {} s; downloading it here too", d,
              stall.toSeconds());
          return new Held(f, slot, null, stored);
        }
        if (inJvm) {
          try {
            Thread.sleep(POLL_MS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while another download of blob " + d + " was awaited");
          }
        }
      }
    } finally {
      if (inJvm) {
        slot.semaphore.release();
      }
    }
  }

  private static FileTime mark(Path f) {
    try {
      return Files.getLastModifiedTime(f, LinkOption.NOFOLLOW_LINKS);
    } catch (IOException e) { // NoSuchFileException: removed by a holder that stored the blob
      return null;
    }
  }

  private static void release(Path f, Slot slot) {
    SLOTS.computeIfPresent(f, (k, v) -> --v.users == 0 ? null : v);
  }
}
