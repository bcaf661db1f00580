package dev.berth.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The download lock of a blob within one JVM (two stores on a root); across processes see PullTest. */
class DownloadLocksTest {
  @TempDir Path tmp;
  final Digest d = Digest.sha256Of(new byte[] {1});
  final ExecutorService pool = Executors.newCachedThreadPool();

  @AfterEach
  void stop() {
    pool.shutdownNow();
  }

  @Test
  void aWaiterGetsTheLockOnceTheHolderEndsAndTheFileGoesOnceTheBlobIsStored() throws Exception {
    DownloadLocks one = new DownloadLocks(tmp);
    DownloadLocks two = new DownloadLocks(tmp); // another store on the same root
    AtomicBoolean stored = new AtomicBoolean();
    DownloadLocks.Held h = one.acquire(d, stored::get, () -> false);
    assertThat(h.locked()).isTrue();
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(one.file(d)))).isEqualTo("rw-------");
    Future<DownloadLocks.Held> waiter = pool.submit(() -> two.acquire(d, () -> false, () -> false));
    Thread.sleep(300);
    assertThat(waiter.isDone()).isFalse();
    h.close(); // failed: the blob is not stored, the file stays for the next downloader
    assertThat(one.file(d)).exists();
    DownloadLocks.Held w = waiter.get(10, TimeUnit.SECONDS);
    assertThat(w.locked()).isTrue();
    stored.set(true);
    DownloadLocks.Held w2 = new DownloadLocks(tmp).acquire(d, stored::get, () -> false); // stored: no wait
    assertThat(w2.locked()).isFalse();
    w2.close();
    try (DownloadLocks.Held again = w) {
      assertThat(again.locked()).isTrue();
    }
    // the waiter held it and its check (false) said not stored; a holder that stored it removes the file
    try (DownloadLocks.Held last = one.acquire(d, stored::get, () -> false)) {
      assertThat(last.locked()).isTrue();
    }
    assertThat(one.file(d)).doesNotExist();
  }

  @Test
  void waitingEndsOnInterruptAndOnAbortAndLeavesTheLockUsable() throws Exception {
    DownloadLocks locks = new DownloadLocks(tmp);
    AtomicBoolean aborted = new AtomicBoolean();
    try (DownloadLocks.Held h = locks.acquire(d, () -> false, () -> false)) {
      CompletableFuture<Thread> t = new CompletableFuture<>();
      Future<?> interrupted = pool.submit(() -> {
        t.complete(Thread.currentThread());
        return locks.acquire(d, () -> false, () -> false);
      });
      Thread.sleep(200);
      t.get().interrupt();
      assertThatThrownBy(() -> interrupted.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(InterruptedIOException.class)
          .hasMessageContaining(d.toString());
      Future<?> abortedOne = pool.submit(() -> locks.acquire(d, () -> false, aborted::get));
      Thread.sleep(200);
      aborted.set(true);
      assertThatThrownBy(() -> abortedOne.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(InterruptedIOException.class);
    }
    try (DownloadLocks.Held h = locks.acquire(d, () -> true, () -> false)) {
      assertThat(h.locked()).isTrue(); // nothing of the failed waits is left holding the JVM's side
    }
    assertThat(locks.file(d)).doesNotExist();
  }

  @Test
  void aHolderWithoutProgressIsGivenUpOn() throws Exception {
    DownloadLocks locks = new DownloadLocks(tmp);
    DownloadLocks other = new DownloadLocks(tmp);
    other.stall = Duration.ofMillis(300);
    try (DownloadLocks.Held h = locks.acquire(d, () -> false, () -> false)) {
      long t0 = System.nanoTime();
      try (DownloadLocks.Held w = other.acquire(d, () -> false, () -> false)) {
        assertThat(w.locked()).isFalse(); // downloads without the lock
      }
      assertThat(System.nanoTime() - t0).isLessThan(TimeUnit.SECONDS.toNanos(5));
      assertThat(locks.file(d)).exists(); // the holder's file is the holder's
    }
  }

  @Test
  void aSymlinkPlantedAsTheLockFileIsNotFollowed() throws IOException {
    Path target = tmp.resolve("target");
    Files.createSymbolicLink(new DownloadLocks(tmp).file(d), target);
    assertThatThrownBy(() -> new DownloadLocks(tmp).acquire(d, () -> false, () -> false)).isInstanceOf(IOException.class)
        .hasMessageContaining(d.hex());
    assertThat(target).doesNotExist();
  }
}
