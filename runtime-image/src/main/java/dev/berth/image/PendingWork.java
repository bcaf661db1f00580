package dev.berth.image;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

/** Waiting for the layer work an import, a pull or a prepare started. */
final class PendingWork {
  private PendingWork() {}

  /**
   * Waits until every future of {@code fs} has settled, then throws the first failure (the others
   * suppressed on it). Never earlier: the futures stand for workers that commit into the store,
   * which is safe only while their caller holds the store's read lock and waits, before a failed
   * import collects what it left. Returning at an interrupt or at a failure other than an
   * IOException let a worker commit after that cleanup (a layer and a blob no ref holds). Nothing
   * is cancelled either: that stops no worker, and an unpack may be shared with other callers. An
   * interrupt is kept for the end: {@code InterruptedIOException} naming {@code what}, the flag set.
   */
  static void await(List<? extends Future<?>> fs, String what) throws IOException {
    await(fs, what, () -> {});
  }

  /** {@link #await(List, String)} that runs {@code onInterrupt} once, at the first interrupt, so the work ends sooner. */
  static void await(List<? extends Future<?>> fs, String what, Runnable onInterrupt) throws IOException {
    boolean interrupted = false;
    Throwable first = null;
    for (Future<?> f : fs) {
      while (true) {
        try {
          f.get();
          break;
        } catch (InterruptedException e) {
          if (!interrupted) {
            onInterrupt.run();
          }
          interrupted = true; // get() cleared the flag, so the next one waits again
        } catch (ExecutionException | CancellationException e) {
          Throwable t = unwrap(e);
          if (first == null) {
            first = t;
          } else if (t != first) {
            first.addSuppressed(t);
          }
          break;
        }
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
      InterruptedIOException e = new InterruptedIOException(
          what + ": interrupted; waited for the layer work it had started to end first");
      if (first != null) {
        e.addSuppressed(first);
      }
      throw e;
    }
    if (first instanceof IOException io) {
      throw io;
    }
    if (first instanceof RuntimeException re) {
      throw re;
    }
    if (first instanceof Error er) {
      throw er;
    }
    if (first != null) {
      throw new IOException(what + ": " + first, first);
    }
  }

  static Throwable unwrap(Throwable t) {
    while ((t instanceof ExecutionException || t instanceof CompletionException
        || t instanceof UncheckedIOException) && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }
}
