package dev.berth.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/** Runs store calls on threads that get interrupted before or while they wait for the store lock. */
public final class InterruptProbe {
  private InterruptProbe() {}

  /** A call that may throw anything. */
  @FunctionalInterface
  public interface Call {
    void run() throws Exception;
  }

  /** Runs {@code call} on a new thread; completes with the thread's interrupt flag at its end, or with what it threw. */
  static CompletableFuture<Boolean> onThread(AtomicReference<Thread> thread, boolean interruptFirst, Call call) {
    CompletableFuture<Boolean> done = new CompletableFuture<>();
    Thread t = new Thread(() -> {
      try {
        if (interruptFirst) {
          Thread.currentThread().interrupt();
        }
        call.run();
        done.complete(Thread.currentThread().isInterrupted());
      } catch (Throwable e) {
        done.completeExceptionally(e);
      }
    }, "interrupt-probe");
    thread.set(t);
    t.start();
    return done;
  }

  /** Runs {@code call} on a thread whose interrupt flag is set from the start; returns the flag at its end. */
  public static boolean withInterruptPending(Call call) throws Exception {
    return onThread(new AtomicReference<>(), true, call).get(10, TimeUnit.SECONDS);
  }

  /** Runs {@code call} on a thread that is not interrupted; returns its interrupt flag at the end (false). */
  public static boolean uninterrupted(Call call) throws Exception {
    return onThread(new AtomicReference<>(), false, call).get(10, TimeUnit.SECONDS);
  }

  /**
   * While another process holds an exclusive fcntl lock on {@code lockFile}, runs {@code call} on a
   * thread, checks that it waits, interrupts it, checks that it still waits, then lets the other
   * process go; returns the thread's interrupt flag at its end.
   */
  public static boolean interruptedWhileWaiting(Path lockFile, Call call) throws Exception {
    Process holder = new ProcessBuilder(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-cp", System.getProperty("java.class.path"), InterruptProbe.class.getName(), lockFile.toString())
        .redirectErrorStream(true)
        .start();
    AtomicReference<Thread> thread = new AtomicReference<>();
    CompletableFuture<Boolean> done;
    try {
      BufferedReader out = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
      assertThat(out.readLine()).as("the other process holds " + lockFile).isEqualTo("locked");
      done = onThread(thread, false, call);
      Thread.sleep(300);
      assertThat(done).as("waits for the other process").isNotDone();
      thread.get().interrupt();
      Thread.sleep(300);
      assertThat(done).as("still waits after the interrupt, not aborted").isNotDone();
    } finally {
      holder.getOutputStream().close(); // the holder exits, and its lock goes with it
      if (!holder.waitFor(10, TimeUnit.SECONDS)) {
        holder.destroyForcibly();
      }
    }
    return done.get(10, TimeUnit.SECONDS);
  }

  /** The other process: locks the file exclusively, says so, and holds it until its stdin closes. */
  public static void main(String[] args) throws IOException {
    try (FileChannel ch = FileChannel.open(Path.of(args[0]), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ch.lock();
      System.out.println("locked");
      System.out.flush();
      System.in.transferTo(java.io.OutputStream.nullOutputStream());
    }
  }

  /**
   * The fcntl lock this process holds on {@code file} as the kernel lists it in /proc/locks
   * ({@code READ} or {@code WRITE}), or "none".
   */
  public static String heldByThisProcess(Path file) throws IOException {
    String pid = Long.toString(ProcessHandle.current().pid());
    String inode = ":" + Files.getAttribute(file, "unix:ino");
    for (String line : Files.readAllLines(Path.of("/proc/locks"))) {
      String[] f = line.trim().split("\\s+");
      // 1: POSIX  ADVISORY  WRITE 4242 fd:01:1234567 0 EOF (waiting requests have "->" after the id)
      if (f.length >= 6 && !f[1].equals("->") && f[4].equals(pid) && f[5].endsWith(inode)) {
        return f[3];
      }
    }
    return "none";
  }
}
