package dev.berth.cgroups.testing;

import dev.berth.cgroups.internal.linux.SyscallException;
import dev.berth.cgroups.internal.linux.Syscalls;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;

/** Recording fake of {@link Syscalls}: statfs magic per path, kill log, scriptable inotify. */
public final class FakeSyscalls implements Syscalls {
  public final Map<String, Long> statfs = new HashMap<>();
  public final List<String> calls = Collections.synchronizedList(new ArrayList<>());
  public final List<long[]> kills = Collections.synchronizedList(new ArrayList<>());
  public final Map<Integer, String> watches = Collections.synchronizedMap(new HashMap<>());
  private final LinkedBlockingQueue<Integer> pending = new LinkedBlockingQueue<>();
  /** Called for every kill(pid, SIGKILL): lets a fake tree drop the pid from cgroup.procs. */
  public volatile LongConsumer onKill = pid -> {};
  public volatile boolean inotifyAvailable = true;
  private int nextWd = 1;

  @Override
  public long statfsType(String path) {
    calls.add("statfs " + path);
    Long m = statfs.get(path);
    if (m == null) throw new SyscallException("statfs(" + path + ")", 2, "No such file or directory");
    return m;
  }

  @Override
  public boolean kill(long pid, int signal) {
    calls.add("kill " + pid + " " + signal);
    kills.add(new long[] {pid, signal});
    onKill.accept(pid);
    return true;
  }

  @Override
  public int inotifyInit() {
    calls.add("inotify_init1");
    if (!inotifyAvailable) throw new SyscallException("inotify_init1", 24, "Too many open files");
    return 42;
  }

  @Override
  public synchronized int inotifyAddWatch(int fd, String path, int mask) {
    calls.add("inotify_add_watch " + path);
    for (Map.Entry<Integer, String> e : watches.entrySet()) {
      if (e.getValue().equals(path)) return e.getKey();
    }
    int wd = nextWd++;
    watches.put(wd, path);
    return wd;
  }

  @Override
  public void inotifyRmWatch(int fd, int wd) {
    calls.add("inotify_rm_watch " + wd);
    watches.remove(wd);
  }

  /** Simulates the kernel's IN_MODIFY for the watched file. */
  public void fireModify(String path) {
    synchronized (this) {
      for (Map.Entry<Integer, String> e : watches.entrySet()) {
        if (e.getValue().equals(path)) pending.add(e.getKey());
      }
    }
  }

  @Override
  public boolean pollIn(int fd, int timeoutMillis) {
    try {
      Integer wd = pending.poll(timeoutMillis, TimeUnit.MILLISECONDS);
      if (wd == null) return false;
      pending.add(wd);
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  @Override
  public int read(int fd, byte[] buf) {
    ByteBuffer bb = ByteBuffer.wrap(buf).order(ByteOrder.nativeOrder());
    Integer wd;
    while (bb.remaining() >= 16 && (wd = pending.poll()) != null) {
      bb.putInt(wd).putInt(Syscalls.IN_MODIFY).putInt(0).putInt(0);
    }
    return bb.position();
  }

  @Override
  public void close(int fd) {
    calls.add("close " + fd);
  }
}
