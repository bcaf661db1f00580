package dev.berth.cgroups.internal;

import dev.berth.cgroups.CgroupSubscription;
import dev.berth.cgroups.OomEvent;
import dev.berth.cgroups.internal.linux.SyscallException;
import dev.berth.cgroups.internal.linux.Syscalls;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * One watcher thread per driver. v2: inotify IN_MODIFY on each watched memory.events (plus a slow
 * backstop re-read); v1: memory.oom_control's oom_kill counter is polled every 100 ms. Each entry
 * keeps the last counter values seen, so every increment is delivered exactly once, whoever
 * notices it first (watcher thread or the final check in remove()).
 */
public final class OomWatcher implements AutoCloseable {
  private static final long V1_POLL_MS = 100;
  /** Name of the system property for the v2 backstop re-read interval (default 2000 ms). */
  public static final String BACKSTOP_PROPERTY = "dev.berth.cgroups.oomBackstopMillis";

  private final long v2BackstopMs = Math.max(100, Long.getLong(BACKSTOP_PROPERTY, 2000));

  private final Syscalls sys;
  private final CgroupFs fs;
  private final List<Entry> active = new CopyOnWriteArrayList<>();
  private final Map<Integer, List<Entry>> byWd = new HashMap<>();
  private int inotifyFd = -2; // -2 not tried, -1 unavailable
  private Thread thread;
  private volatile boolean closed;

  OomWatcher(Syscalls sys, CgroupFs fs) {
    this.sys = sys;
    this.fs = fs;
  }

  /** Counter state of one cgroup; baseline taken at creation. */
  final class Entry {
    final String cgroup;
    final Path file;
    final boolean v2;
    final List<Consumer<OomEvent>> listeners = new CopyOnWriteArrayList<>();
    private long lastOom;
    private long lastKill;
    int wd = -1;

    Entry(String cgroup, Path file, boolean v2) {
      this.cgroup = cgroup;
      this.file = file;
      this.v2 = v2;
      long[] c = readCounts();
      lastOom = c[0];
      lastKill = c[1];
    }

    /** {oom, oom_kill} read now; zeros when the file is missing. */
    long[] readCounts() {
      String s = fs.readIfExists(file).orElse("");
      Map<String, Long> m = StatsReader.flatKeyed(s);
      return new long[] {v2 ? m.getOrDefault("oom", 0L) : 0L, m.getOrDefault("oom_kill", 0L)};
    }

    /** Reads the counters and delivers every increment not yet delivered. */
    synchronized void check() {
      long[] c = readCounts();
      Instant now = Instant.now();
      for (long i = lastOom + 1; i <= c[0]; i++) deliver(new OomEvent(cgroup, OomEvent.Kind.OOM, i, now));
      for (long i = lastKill + 1; i <= c[1]; i++) deliver(new OomEvent(cgroup, OomEvent.Kind.OOM_KILL, i, now));
      lastOom = Math.max(lastOom, c[0]);
      lastKill = Math.max(lastKill, c[1]);
    }

    private void deliver(OomEvent e) {
      for (Consumer<OomEvent> l : listeners) {
        try {
          l.accept(e);
        } catch (RuntimeException ex) {
          BaseDriver.LOG.warn("OOM listener of {} failed", cgroup, ex);
        }
      }
    }
  }

  Entry entry(String cgroup, Path file, boolean v2) {
    return new Entry(cgroup, file, v2);
  }

  synchronized CgroupSubscription addListener(Entry e, Consumer<OomEvent> listener) {
    // A wrapper per registration: the same listener registered twice is two registrations, and
    // closing one of them twice must not end the other.
    Consumer<OomEvent> registration = listener::accept;
    e.listeners.add(registration);
    if (!active.contains(e)) {
      active.add(e);
      if (e.v2) watch(e);
      start();
    }
    return () -> e.listeners.remove(registration);
  }

  private void watch(Entry e) {
    if (inotifyFd == -2) {
      try {
        inotifyFd = sys.inotifyInit();
      } catch (SyscallException | UnsatisfiedLinkError ex) {
        BaseDriver.LOG.debug("inotify unavailable, polling memory.events: {}", ex.toString());
        inotifyFd = -1;
      }
    }
    if (inotifyFd >= 0) {
      try {
        e.wd = sys.inotifyAddWatch(inotifyFd, e.file.toString(), Syscalls.IN_MODIFY);
        byWd.computeIfAbsent(e.wd, k -> new ArrayList<>()).add(e);
      } catch (SyscallException ex) {
        BaseDriver.LOG.debug("inotify_add_watch {}: {}", e.file, ex.getMessage());
      }
    }
  }

  synchronized void unregister(Entry e) {
    active.remove(e);
    if (e.wd >= 0) {
      List<Entry> l = byWd.get(e.wd);
      if (l != null) {
        l.remove(e);
        if (l.isEmpty()) {
          byWd.remove(e.wd);
          sys.inotifyRmWatch(inotifyFd, e.wd);
        }
      }
      e.wd = -1;
    }
  }

  private void start() {
    if (thread != null || closed) return;
    thread = new Thread(this::run, "berth-cgroup-oom-watcher");
    thread.setDaemon(true);
    thread.start();
  }

  private void run() {
    byte[] buf = new byte[4096];
    long lastV1 = 0;
    long lastBackstop = System.currentTimeMillis();
    while (!closed) {
      try {
        int fd;
        synchronized (this) {
          fd = inotifyFd;
        }
        List<Entry> fired = new ArrayList<>();
        if (fd >= 0) {
          if (sys.pollIn(fd, (int) V1_POLL_MS)) {
            int n;
            while ((n = sys.read(fd, buf)) > 0) {
              ByteBuffer bb = ByteBuffer.wrap(buf, 0, n).order(ByteOrder.nativeOrder());
              while (bb.remaining() >= 16) {
                int wd = bb.getInt();
                bb.getInt(); // mask
                bb.getInt(); // cookie
                int len = bb.getInt();
                bb.position(Math.min(bb.limit(), bb.position() + len));
                synchronized (this) {
                  List<Entry> l = byWd.get(wd);
                  if (l != null) fired.addAll(l);
                }
              }
            }
          }
        } else {
          Thread.sleep(V1_POLL_MS);
        }
        long now = System.currentTimeMillis();
        boolean backstop = now - lastBackstop >= v2BackstopMs || fd < 0;
        if (backstop) lastBackstop = now;
        boolean v1Due = now - lastV1 >= V1_POLL_MS;
        if (v1Due) lastV1 = now;
        for (Entry e : active) {
          if (fired.contains(e) || (e.v2 && (backstop || e.wd < 0)) || (!e.v2 && v1Due)) {
            try {
              e.check();
            } catch (RuntimeException ex) {
              BaseDriver.LOG.debug("OOM check of {}: {}", e.cgroup, ex.toString());
            }
          }
        }
      } catch (InterruptedException ie) {
        return;
      } catch (RuntimeException ex) {
        BaseDriver.LOG.warn("OOM watcher", ex);
        try {
          Thread.sleep(V1_POLL_MS);
        } catch (InterruptedException ie) {
          return;
        }
      }
    }
  }

  @Override
  public void close() {
    Thread t;
    synchronized (this) {
      closed = true;
      t = thread;
    }
    if (t != null) {
      try {
        t.join(2000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    synchronized (this) {
      if (inotifyFd >= 0) {
        sys.close(inotifyFd);
        inotifyFd = -1;
      }
    }
  }
}
