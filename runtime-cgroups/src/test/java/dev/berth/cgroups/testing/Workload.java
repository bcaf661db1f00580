package dev.berth.cgroups.testing;

import dev.berth.cgroups.Cgroup;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A shell workload that does nothing until it is inside its cgroup: {@code sh -c 'read x; SCRIPT'}
 * is started, its pid added to the cgroup, then released through stdin. Stdout/stderr lines are
 * collected by daemon threads.
 */
public final class Workload implements AutoCloseable {
  public final Process process;
  public final List<String> out = new CopyOnWriteArrayList<>();
  public final List<String> err = new CopyOnWriteArrayList<>();
  /** Number of stdout lines seen (only the first 1000 are kept in {@link #out}). */
  public final java.util.concurrent.atomic.AtomicLong outLines = new java.util.concurrent.atomic.AtomicLong();

  private Workload(Process p) {
    this.process = p;
    pump(p.getInputStream(), out, outLines);
    pump(p.getErrorStream(), err, new java.util.concurrent.atomic.AtomicLong());
  }

  private static void pump(java.io.InputStream in, List<String> sink, java.util.concurrent.atomic.AtomicLong count) {
    Thread t = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
        String line;
        while ((line = r.readLine()) != null) {
          if (count.incrementAndGet() <= 1000) sink.add(line);
        }
      } catch (IOException e) {
        // process gone
      }
    }, "workload-pump");
    t.setDaemon(true);
    t.start();
  }

  /** Starts {@code script} held at {@code read x}, joins it to {@code cg} and releases it. */
  public static Workload startIn(Cgroup cg, String script) {
    try {
      Process p = new ProcessBuilder("/bin/sh", "-c", "read x; " + script).start();
      Workload w = new Workload(p);
      try {
        cg.addProcess(p.pid());
      } catch (RuntimeException e) {
        p.destroyForcibly();
        throw e;
      }
      OutputStream os = p.getOutputStream();
      os.write('\n');
      os.flush();
      return w;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public long pid() {
    return process.pid();
  }

  /** Waits for exit; returns the exit code or throws on timeout. */
  public int waitFor(long seconds) throws InterruptedException {
    if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
      throw new AssertionError("workload " + pid() + " still running after " + seconds + " s; stderr " + err);
    }
    return process.exitValue();
  }

  /** Waits until a stdout line equals {@code line}. */
  public void awaitLine(String line, long seconds) throws InterruptedException {
    long end = System.currentTimeMillis() + seconds * 1000;
    while (!out.contains(line)) {
      if (System.currentTimeMillis() > end) {
        throw new AssertionError("no line '" + line + "' after " + seconds + " s; out " + out + " err " + err);
      }
      if (!process.isAlive() && !out.contains(line)) {
        Thread.sleep(100);
        if (!out.contains(line)) throw new AssertionError("workload exited " + process.exitValue() + " without '" + line + "'; err " + err);
      }
      Thread.sleep(10);
    }
  }

  @Override
  public void close() {
    process.descendants().forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
  }
}
