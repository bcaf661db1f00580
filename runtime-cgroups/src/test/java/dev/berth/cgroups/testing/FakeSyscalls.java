package dev.berth.cgroups.testing;

import dev.berth.cgroups.internal.CgroupFs;
import dev.berth.cgroups.internal.linux.SyscallException;
import dev.berth.cgroups.internal.linux.Syscalls;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
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

  // File operations act on the fake tree's temp dir, with NIO's exception types mapped to errno.

  @Override
  public void mkdir(String path, int mode) {
    try {
      Files.createDirectory(Path.of(path));
    } catch (IOException e) {
      throw errno("mkdir(" + path + ")", e);
    }
  }

  @Override
  public void rmdir(String path) {
    try {
      Files.delete(Path.of(path));
    } catch (IOException e) {
      throw errno("rmdir(" + path + ")", e);
    }
  }

  @Override
  public void writeFile(String path, byte[] data) {
    Path p = Path.of(path);
    try {
      if (!Files.isRegularFile(p)) throw new NoSuchFileException(path); // cgroupfs never creates files
      Files.write(p, data, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
    } catch (IOException e) {
      throw errno("write(" + path + ")", e);
    }
  }

  private static SyscallException errno(String call, IOException e) {
    return new SyscallException(call, CgroupFs.errno(e), CgroupFs.errorText(e));
  }

  /** Device programs attached per cgroup directory fd's path, newest last. */
  public final Map<String, List<byte[]>> devicePrograms = Collections.synchronizedMap(new HashMap<>());
  private final Map<Integer, String> dirFds = new HashMap<>();
  private final Map<Integer, byte[]> progFds = new HashMap<>();
  private int nextFd = 100;

  @Override
  public synchronized int openDirectory(String path) {
    calls.add("open " + path);
    int fd = nextFd++;
    dirFds.put(fd, path);
    return fd;
  }

  @Override
  public synchronized int bpfProgLoad(int progType, byte[] insns, String license) {
    calls.add("bpf_prog_load " + progType + " " + insns.length / 8);
    int fd = nextFd++;
    progFds.put(fd, insns);
    return fd;
  }

  @Override
  public synchronized void bpfProgAttach(int targetFd, int progFd, int attachType, int flags) {
    calls.add("bpf_prog_attach " + dirFds.get(targetFd) + " " + attachType + " " + flags);
    devicePrograms.computeIfAbsent(dirFds.get(targetFd), k -> new ArrayList<>()).add(progFds.get(progFd));
  }

  @Override
  public synchronized void bpfProgDetach(int targetFd, int progFd, int attachType) {
    calls.add("bpf_prog_detach " + dirFds.get(targetFd));
    devicePrograms.get(dirFds.get(targetFd)).remove(progFds.get(progFd));
  }

  @Override
  public synchronized int[] bpfProgQuery(int targetFd, int attachType) {
    List<byte[]> attached = devicePrograms.getOrDefault(dirFds.get(targetFd), List.of());
    int[] ids = new int[attached.size()];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = System.identityHashCode(attached.get(i));
    }
    return ids;
  }

  @Override
  public synchronized int bpfProgGetFdById(int id) {
    for (List<byte[]> progs : devicePrograms.values()) {
      for (byte[] p : progs) {
        if (System.identityHashCode(p) == id) {
          int fd = nextFd++;
          progFds.put(fd, p);
          return fd;
        }
      }
    }
    throw new SyscallException("bpf(BPF_PROG_GET_FD_BY_ID, " + id + ")", ENOENT, "No such file or directory");
  }
}
