package dev.berth.image.internal;

import dev.berth.image.Digest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Readers/writer lock of a store, across threads <em>and</em> processes: an in-JVM read/write
 * lock plus an fcntl lock on {@code <root>/store.lock} (shared while any thread of this JVM reads,
 * exclusive while it writes). Imports and prepares read; removal and garbage collection write.
 * The channel stays open for the store's life (closing any fd of the file would drop the lock).
 */
public final class StoreLock implements AutoCloseable {
  // Java file locks belong to the whole JVM (a second channel locking the same file throws
  // OverlappingFileLockException), so all stores on one root in this JVM share one StoreLock.
  private static final Map<Path, StoreLock> OPEN = new HashMap<>();

  private final Path file;
  /** In-memory layer leases of open PreparedImages, shared by every store on this root in this JVM. */
  public final ConcurrentHashMap<Digest, AtomicInteger> leases = new ConcurrentHashMap<>();
  /** Layers being unpacked right now (one future per DiffID), shared likewise. */
  public final ConcurrentHashMap<Digest, CompletableFuture<Path>> unpacking = new ConcurrentHashMap<>();
  private final ReentrantReadWriteLock jvm = new ReentrantReadWriteLock();
  private final FileChannel channel;
  private int readers;
  private FileLock shared;
  private int users;

  private StoreLock(Path file) throws IOException {
    this.file = file;
    channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ);
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
          shared = channel.lock(0, Long.MAX_VALUE, true);
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

  /** Exclusive across the JVM and other processes; returns the OS lock to release. */
  public FileLock lockWrite() throws IOException {
    jvm.writeLock().lock();
    try {
      return channel.lock(0, Long.MAX_VALUE, false);
    } catch (IOException | RuntimeException e) {
      jvm.writeLock().unlock();
      throw e;
    }
  }

  public void unlockWrite(FileLock lock) {
    try {
      lock.release();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      jvm.writeLock().unlock();
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
      FileLock l = channel.tryLock(0, Long.MAX_VALUE, false);
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
