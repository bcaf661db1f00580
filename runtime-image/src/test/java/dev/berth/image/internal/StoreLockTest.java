package dev.berth.image.internal;

import static dev.berth.image.InterruptProbe.heldByThisProcess;
import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.image.InterruptProbe;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Interrupts must not break the store lock: with a plain FileChannel lock, an interrupt reaching
 * {@code lock()} closed the shared channel, dropping the process's locks for every thread and
 * failing every later call with ClosedChannelException. What the kernel holds is read from
 * /proc/locks.
 */
class StoreLockTest {
  @TempDir Path tmp;
  Path file;
  StoreLock lock;

  @BeforeEach
  void open() throws IOException {
    file = tmp.resolve("store.lock");
    lock = StoreLock.acquire(file);
  }

  @AfterEach
  void close() throws IOException {
    lock.close();
  }

  /** Takes and releases both kinds of lock on the calling thread, checking what the kernel holds meanwhile. */
  void takeBothKinds() throws IOException {
    lock.lockRead();
    assertThat(heldByThisProcess(file)).isEqualTo("READ");
    lock.unlockRead();
    lock.lockWrite();
    assertThat(heldByThisProcess(file)).isEqualTo("WRITE");
    lock.unlockWrite();
  }

  /** Another thread, not interrupted, can still take both kinds of lock, and releases them. */
  void assertStillWorks() throws Exception {
    InterruptProbe.uninterrupted(this::takeBothKinds);
    assertThat(heldByThisProcess(file)).as("released").isEqualTo("none");
  }

  @Test
  void pendingInterruptNeitherFailsNorIsCleared() throws Exception {
    AtomicBoolean ranAlone = new AtomicBoolean();
    assertThat(InterruptProbe.withInterruptPending(() -> {
      takeBothKinds();
      ranAlone.set(lock.ifAlone(() -> assertThat(heldByThisProcess(file)).isEqualTo("WRITE")));
    })).as("interrupt flag kept").isTrue();
    assertThat(ranAlone).isTrue();
    assertStillWorks();
  }

  @Test
  void interruptedHolderReleasesAndRelocks() throws Exception {
    assertThat(InterruptProbe.uninterrupted(() -> {
      lock.lockRead();
      Thread.currentThread().interrupt();
      lock.unlockRead();
      lock.lockRead();
      lock.unlockRead();
      assertThat(Thread.interrupted()).as("interrupt flag kept").isTrue();
    })).isFalse();
    assertStillWorks();
  }

  @Test
  void interruptWhileWaitingForAnotherProcessDoesNotAbortTheWait() throws Exception {
    assertThat(InterruptProbe.interruptedWhileWaiting(file, () -> {
      lock.lockWrite();
      assertThat(heldByThisProcess(file)).isEqualTo("WRITE");
      lock.unlockWrite();
    })).as("took the lock once free; interrupt flag kept").isTrue();
    assertStillWorks();
  }
}
