package dev.berth.image.internal;

import dev.berth.image.Digest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.FileLockInterruptionException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Readers/writer lock of a store, across threads <em>and</em> processes: an in-JVM read/write
 * lock plus an fcntl lock on {@code <root>/store.lock} (shared while any thread of this JVM reads,
 * exclusive while it writes). Imports and prepares read; removal and garbage collection write.
 * The channel stays open for the store's life (closing any fd of the file would drop the lock).
 *
 * <p>Interrupts: {@code FileChannel.lock} is interruptible. An interrupt pending when it is called,
 * or arriving while it waits, closes the channel, and closing it drops every fcntl lock this
 * process holds on the file, for all threads; every later call then failed with {@code
 * ClosedChannelException}. Here the channel is locked only while this process holds no lock on
 * the file, by the first reader (under this object's monitor, with writers kept out by the JVM
 * lock) or by a writer (who keeps out every other user in the JVM), so a close loses nothing: the
 * channel is reopened and the lock taken again. The in-JVM lock is taken with {@code lock()},
 * which ignores interrupts, and releasing an fcntl lock is not interruptible. An interrupted
 * caller so gets the lock as any other and keeps its interrupt flag.
 *
 * <p>Not an OFD lock through JNA, which would need no such care: binding libc in {@code open}
 * made it 0.16 s slower in a fresh JVM, a cost the store otherwise hides behind reading the
 * image's JSON (docs/benchmarks.md).
 */
public final class StoreLock implements AutoCloseable {
  // Java file locks belong to the whole JVM (a second channel locking the same file throws
  // OverlappingFileLockException), so all stores on one root in this JVM share one StoreLock.
  private static final Map<Path, StoreLock> OPEN = new HashMap<>();
  // whoever can open the file can hold a shared lock on it, and so stall removal for ever
  private static final Set<PosixFilePermission> OWNER_RW = PosixFilePermissions.fromString("rw-------");

  private final Path file;
  /** In-memory layer leases of open PreparedImages, shared by every store on this root in this JVM. */
  public final ConcurrentHashMap<Digest, AtomicInteger> leases = new ConcurrentHashMap<>();
  /** Layers being unpacked right now (one future per DiffID), shared likewise. */
  public final ConcurrentHashMap<Digest, CompletableFuture<Path>> unpacking = new ConcurrentHashMap<>();
  private final ReentrantReadWriteLock jvm = new ReentrantReadWriteLock();
  /** Replaced (see {@link #osLock}) only by the one thread that may take the fcntl lock at a time. */
  private volatile FileChannel channel;
  private int readers;
  private FileLock shared;
  private FileLock exclusive;
  private int users;

  private StoreLock(Path file) throws IOException {
    this.file = file;
    channel = openChannel(file);
    try {
      PosixFileAttributeView view = Files.getFileAttributeView(file, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
      if (!view.readAttributes().permissions().equals(OWNER_RW)) {
        view.setPermissions(OWNER_RW);
      }
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
  }

  private static FileChannel openChannel(Path file) throws IOException {
    return FileChannel.open(
        file,
        Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS),
        PosixFilePermissions.asFileAttribute(OWNER_RW));
  }

  /** The lock of {@code file} (a store's {@code store.lock}), shared by every store on it in this JVM. */
  public static StoreLock acquire(Path file) throws IOException {
    Path key = file.toAbsolutePath().normalize();
    synchronized (OPEN) {
      StoreLock l = OPEN.get(key);
      if (l == null) {
        l = new StoreLock(key);
        OPEN.put(key, l);
      }
      l.users++;
      return l;
    }
  }

  public void lockRead() throws IOException {
    jvm.readLock().lock();
    try {
      synchronized (this) {
        if (readers == 0) {
          shared = osLock(true);
        }
        readers++;
      }
    } catch (IOException | RuntimeException e) {
      jvm.readLock().unlock();
      throw e;
    }
  }

  public void unlockRead() {
    try {
      synchronized (this) {
        if (--readers == 0 && shared != null) {
          shared.release();
          shared = null;
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      jvm.readLock().unlock();
    }
  }

  /** Exclusive across the JVM and other processes, until {@link #unlockWrite}. */
  public void lockWrite() throws IOException {
    jvm.writeLock().lock();
    try {
      exclusive = osLock(false);
    } catch (IOException | RuntimeException e) {
      jvm.writeLock().unlock();
      throw e;
    }
  }

  public void unlockWrite() {
    try {
      FileLock l = exclusive;
      exclusive = null;
      l.release();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      jvm.writeLock().unlock();
    }
  }

  /**
   * Takes the fcntl lock; the caller makes sure this process holds none on the file (see the class
   * comment). A channel an interrupt closed is replaced and the lock taken again, with the
   * interrupt flag cleared for the attempt and set again at the end.
   */
  private FileLock osLock(boolean sharedLock) throws IOException {
    boolean interrupted = Thread.interrupted();
    try {
      while (true) {
        FileChannel ch = channel;
        try {
          return ch.lock(0, Long.MAX_VALUE, sharedLock);
        } catch (FileLockInterruptionException e) {
          interrupted = true;
          Thread.interrupted(); // the next attempt would otherwise close the new channel at once
          reopen(ch);
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private void reopen(FileChannel closedByInterrupt) throws IOException {
    synchronized (OPEN) {
      if (users == 0) {
        throw new ClosedChannelException(); // the store was closed meanwhile
      }
      if (channel == closedByInterrupt) {
        channel = openChannel(file);
      }
    }
  }

  /**
   * Runs {@code action} only if no thread of this JVM and no other process uses the store right
   * now (crash cleanup); returns whether it ran.
   */
  public boolean ifAlone(IoAction action) throws IOException {
    if (!jvm.writeLock().tryLock()) {
      return false;
    }
    try {
      FileLock l = channel.tryLock(0, Long.MAX_VALUE, false); // tryLock does not react to interrupts
      if (l == null) {
        return false;
      }
      try {
        action.run();
        return true;
      } finally {
        l.release();
      }
    } finally {
      jvm.writeLock().unlock();
    }
  }

  /** An action that may throw IOException. */
  public interface IoAction {
    void run() throws IOException;
  }

  @Override
  public void close() throws IOException {
    synchronized (OPEN) {
      if (--users == 0) {
        OPEN.remove(file);
        channel.close();
      }
    }
  }
}
