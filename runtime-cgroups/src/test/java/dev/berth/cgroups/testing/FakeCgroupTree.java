package dev.berth.cgroups.testing;

import dev.berth.cgroups.CgroupDriver;
import dev.berth.cgroups.internal.CgroupFs;
import dev.berth.cgroups.internal.linux.Syscalls;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A fake cgroupfs on a temp dir that behaves like kernfs where it matters: mkdir populates the
 * interface files of the hierarchy's controllers, rmdir removes them (EBUSY while cgroup.procs is
 * not empty), cgroup.procs / subtree_control / io.max accumulate writes, cgroup.kill empties the
 * cgroup, cgroup.freeze updates cgroup.events, and the v2 no-internal-processes rule is enforced.
 * Every write is recorded.
 */
public final class FakeCgroupTree extends CgroupFs {
  public static final String ALL_V2 = "cpuset cpu io memory hugetlb pids rdma misc";

  public final Path root;
  public final Path cgroupRoot;
  public final Path procRoot;
  public final FakeSyscalls sys;
  /** "path=value" for every write, relative to the cgroup root. */
  public final List<String> writes = Collections.synchronizedList(new ArrayList<>());
  /** file (relative to cgroup root) → error text: the next writes to it fail. */
  public final Map<String, String> failWrites = new HashMap<>();
  private final Set<Path> v2Roots = new LinkedHashSet<>();

  private FakeCgroupTree(Path root) {
    this(root, new FakeSyscalls());
  }

  private FakeCgroupTree(Path root, FakeSyscalls sys) {
    super(sys);
    this.sys = sys;
    this.root = root;
    this.cgroupRoot = root.resolve("sys/fs/cgroup");
    this.procRoot = root.resolve("proc");
    sys.onKill = this::dropPid;
  }

  /** A pure cgroup v2 host; this process sits at {@code ownPath} with {@code ownProcs} in it. */
  public static FakeCgroupTree v2(Path tmp, String ownPath, String rootControllers, String ownControllers, long... ownProcs) {
    FakeCgroupTree t = new FakeCgroupTree(tmp);
    t.v2Roots.add(t.cgroupRoot);
    t.sys.statfs.put(t.cgroupRoot.toString(), Syscalls.CGROUP2_SUPER_MAGIC);
    t.mkdirRaw(t.cgroupRoot);
    t.put(t.cgroupRoot.resolve("cgroup.controllers"), rootControllers);
    t.put(t.cgroupRoot.resolve("cgroup.subtree_control"), "");
    Path own = t.cgroupRoot;
    String[] segs = ownPath.replaceFirst("^/", "").split("/");
    for (int i = 0; i < segs.length; i++) {
      if (segs[i].isEmpty()) continue;
      Path parent = own;
      own = own.resolve(segs[i]);
      boolean last = i == segs.length - 1;
      t.put(parent.resolve("cgroup.subtree_control"), last ? ownControllers : rootControllers);
      t.mkdirRaw(own);
      t.populate(own);
    }
    t.put(own.resolve("cgroup.procs"), Arrays.stream(ownProcs).mapToObj(Long::toString).collect(Collectors.joining("\n"))
        + (ownProcs.length > 0 ? "\n" : ""));
    t.proc("0::" + ownPath + "\n",
        "24 1 0:21 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n");
    return t;
  }

  /** A hybrid host like the CI machine (facts.md): v1 controllers + empty v2 at /unified. */
  public static FakeCgroupTree hybrid(Path tmp, boolean withUnified) {
    FakeCgroupTree t = new FakeCgroupTree(tmp);
    t.sys.statfs.put(t.cgroupRoot.toString(), Syscalls.TMPFS_MAGIC);
    t.mkdirRaw(t.cgroupRoot);
    StringBuilder mi = new StringBuilder("31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n");
    String[][] hs = {{"cpu"}, {"cpuacct"}, {"cpuset"}, {"memory"}, {"devices"}, {"freezer"}, {"blkio"}, {"pids"}};
    int id = 32;
    for (String[] h : hs) {
      Path mp = t.cgroupRoot.resolve(h[0]);
      t.mkdirRaw(mp);
      t.populate(mp);
      mi.append(id).append(" 31 0:").append(id - 3).append(" / /sys/fs/cgroup/").append(h[0])
          .append(" rw,relatime - cgroup cgroup rw,").append(h[0]).append('\n');
      id++;
    }
    t.put(t.cgroupRoot.resolve("cpuset/cpuset.cpus"), "0-1\n");
    t.put(t.cgroupRoot.resolve("cpuset/cpuset.mems"), "0\n");
    t.mkdirRaw(t.cgroupRoot.resolve("systemd"));
    mi.append("40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n");
    Path memOwn = t.cgroupRoot.resolve("memory/process_api");
    t.mkdirRaw(memOwn);
    t.populate(memOwn);
    memOwn = memOwn.resolve("7bbfb7adfb4b799025eb6cabaffe632f");
    t.mkdirRaw(memOwn);
    t.populate(memOwn);
    if (withUnified) {
      Path u = t.cgroupRoot.resolve("unified");
      t.v2Roots.add(u);
      t.sys.statfs.put(u.toString(), Syscalls.CGROUP2_SUPER_MAGIC);
      t.mkdirRaw(u);
      t.populate(u);
      t.put(u.resolve("cgroup.controllers"), "hugetlb\n");
      mi.append("41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n");
    } else {
      t.mkdirRaw(t.cgroupRoot.resolve("unified"));
      t.sys.statfs.put(t.cgroupRoot.resolve("unified").toString(), Syscalls.TMPFS_MAGIC);
    }
    t.proc("9:name=systemd:/\n8:pids:/\n7:blkio:/\n6:freezer:/\n5:devices:/\n"
        + "4:memory:/process_api/7bbfb7adfb4b799025eb6cabaffe632f\n3:cpuset:/\n2:cpuacct:/\n1:cpu:/\n"
        + (withUnified ? "0::/\n" : ""), mi.toString());
    return t;
  }

  public CgroupDriver.Options.Builder options() {
    return CgroupDriver.Options.builder().cgroupRoot(cgroupRoot).procRoot(procRoot)
        .timeout(java.time.Duration.ofSeconds(2));
  }

  private void proc(String cgroup, String mountinfo) {
    Path self = procRoot.resolve("self");
    mkdirRaw(self);
    put(self.resolve("cgroup"), cgroup);
    put(self.resolve("mountinfo"), mountinfo);
  }

  public Path path(String rel) {
    return cgroupRoot.resolve(rel);
  }

  public String get(String rel) {
    try {
      return Files.readString(path(rel));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public void put(Path p, String content) {
    try {
      Files.writeString(p, content);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public void put(String rel, String content) {
    put(path(rel), content);
  }

  private void mkdirRaw(Path p) {
    try {
      Files.createDirectories(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private Path v2RootOf(Path dir) {
    for (Path r : v2Roots) if (dir.startsWith(r)) return r;
    return null;
  }

  /** The v1 controller of a directory (first path element below the cgroup root). */
  private String v1ControllerOf(Path dir) {
    return cgroupRoot.relativize(dir).getName(0).toString();
  }

  private void populate(Path dir) {
    Map<String, String> f = new LinkedHashMap<>();
    f.put("cgroup.procs", "");
    if (v2RootOf(dir) != null) {
      boolean isRoot = v2Roots.contains(dir);
      String ctrls = isRoot ? "" : slurp(dir.getParent().resolve("cgroup.subtree_control")).trim();
      if (!isRoot) f.put("cgroup.controllers", ctrls + "\n");
      f.put("cgroup.subtree_control", "");
      f.put("cgroup.threads", "");
      if (!isRoot) {
        f.put("cgroup.events", "populated 0\nfrozen 0\n");
        f.put("cgroup.freeze", "0\n");
        f.put("cgroup.kill", "");
      }
      f.put("cpu.stat", "usage_usec 0\nuser_usec 0\nsystem_usec 0\n");
      f.put("cpu.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
      f.put("memory.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
      f.put("io.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
      Set<String> c = new LinkedHashSet<>(Arrays.asList(ctrls.split("\\s+")));
      if (!isRoot && c.contains("cpu")) {
        f.put("cpu.max", "max 100000\n");
        f.put("cpu.weight", "100\n");
        f.put("cpu.stat", "usage_usec 0\nuser_usec 0\nsystem_usec 0\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\n");
      }
      if (!isRoot && c.contains("cpuset")) {
        f.put("cpuset.cpus", "\n");
        f.put("cpuset.mems", "\n");
      }
      if (!isRoot && c.contains("memory")) {
        for (String k : List.of("memory.max", "memory.high", "memory.swap.max")) f.put(k, "max\n");
        f.put("memory.low", "0\n");
        f.put("memory.current", "0\n");
        f.put("memory.peak", "0\n");
        f.put("memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n");
        f.put("memory.stat", "anon 0\nfile 0\n");
        f.put("memory.oom.group", "0\n");
      }
      if (!isRoot && c.contains("io")) {
        f.put("io.weight", "default 100\n");
        f.put("io.max", "");
        f.put("io.stat", "");
      }
      if (!isRoot && c.contains("pids")) {
        f.put("pids.max", "max\n");
        f.put("pids.current", "0\n");
      }
    } else {
      f.put("tasks", "");
      f.put("notify_on_release", "0\n");
      switch (v1ControllerOf(dir)) {
        case "cpu":
          f.put("cpu.cfs_period_us", "100000\n");
          f.put("cpu.cfs_quota_us", "-1\n");
          f.put("cpu.shares", "1024\n");
          f.put("cpu.stat", "nr_periods 0\nnr_throttled 0\nthrottled_time 0\n");
          break;
        case "cpuacct":
          f.put("cpuacct.usage", "0\n");
          f.put("cpuacct.stat", "user 0\nsystem 0\n");
          break;
        case "cpuset":
          f.put("cpuset.cpus", "\n");
          f.put("cpuset.mems", "\n");
          break;
        case "memory":
          f.put("memory.limit_in_bytes", "9223372036854771712\n");
          f.put("memory.memsw.limit_in_bytes", "9223372036854771712\n");
          f.put("memory.soft_limit_in_bytes", "9223372036854771712\n");
          f.put("memory.usage_in_bytes", "0\n");
          f.put("memory.max_usage_in_bytes", "0\n");
          f.put("memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n");
          f.put("memory.stat", "cache 0\nrss 0\n");
          break;
        case "blkio":
          f.put("blkio.weight", "500\n");
          for (String k : List.of("read_bps_device", "write_bps_device", "read_iops_device", "write_iops_device",
              "io_service_bytes", "io_serviced")) {
            f.put("blkio.throttle." + k, "");
          }
          break;
        case "pids":
          f.put("pids.max", "max\n");
          f.put("pids.current", "0\n");
          break;
        case "freezer":
          f.put("freezer.state", "THAWED\n");
          break;
        case "devices":
          f.put("devices.allow", "");
          f.put("devices.deny", "");
          f.put("devices.list", "a *:* rwm\n");
          break;
        default:
          break;
      }
    }
    for (Map.Entry<String, String> e : f.entrySet()) {
      Path p = dir.resolve(e.getKey());
      if (!Files.exists(p)) put(p, e.getValue());
    }
  }

  private static String slurp(Path p) {
    try {
      return Files.readString(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void append(Path p, String line) {
    String cur = Files.exists(p) ? slurp(p) : "";
    put(p, cur + line + "\n");
  }

  private FsException fail(Path file, String value, String errorText) {
    return new FsException("write " + file + " \"" + value + "\": " + errorText, errnoOf(errorText), errorText, null);
  }

  /** The errno a test's error text stands for (tests script failures by the kernel's English text). */
  private static int errnoOf(String errorText) {
    switch (errorText) {
      case "Device or resource busy": return Syscalls.EBUSY;
      case "No such file or directory": return Syscalls.ENOENT;
      case "No such process": return Syscalls.ESRCH;
      case "Permission denied": return Syscalls.EACCES;
      case "Invalid argument": return Syscalls.EINVAL;
      case "Operation not permitted": return Syscalls.EPERM;
      default: return 0;
    }
  }

  /** Removes a pid from every cgroup.procs of the tree (the process died). */
  public void dropPid(long pid) {
    try (Stream<Path> s = Files.walk(cgroupRoot)) {
      for (Path p : s.filter(x -> x.getFileName().toString().equals("cgroup.procs")).collect(Collectors.toList())) {
        String cur = slurp(p);
        String next = Arrays.stream(cur.split("\n")).filter(l -> !l.isBlank() && !l.trim().equals(Long.toString(pid)))
            .map(l -> l + "\n").collect(Collectors.joining());
        if (!next.equals(cur)) put(p, next);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public synchronized void write(Path file, String value) {
    String rel = cgroupRoot.relativize(file).toString();
    writes.add(rel + "=" + value);
    String err = failWrites.get(rel);
    if (err != null) throw fail(file, value, err);
    if (!Files.exists(file)) throw fail(file, value, "No such file or directory");
    String name = file.getFileName().toString();
    Path dir = file.getParent();
    switch (name) {
      case "cgroup.procs": {
        // Like the kernel: the pid leaves its old cgroup of this hierarchy.
        Path hroot = v2RootOf(dir) != null ? v2RootOf(dir) : cgroupRoot.resolve(v1ControllerOf(dir));
        try (Stream<Path> s = Files.walk(hroot)) {
          for (Path p : s.filter(x -> x.getFileName().toString().equals("cgroup.procs")).collect(Collectors.toList())) {
            String cur = slurp(p);
            String next = Arrays.stream(cur.split("\n")).filter(l -> !l.isBlank() && !l.trim().equals(value.trim()))
                .map(l -> l + "\n").collect(Collectors.joining());
            if (!next.equals(cur)) put(p, next);
          }
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
        append(file, value.trim());
        return;
      }
      case "cgroup.subtree_control": {
        boolean isRoot = v2Roots.contains(dir);
        if (!isRoot && !slurp(dir.resolve("cgroup.procs")).isBlank()) throw fail(file, value, "Device or resource busy");
        Set<String> avail = new LinkedHashSet<>(Arrays.asList(slurp(dir.resolve("cgroup.controllers")).trim().split("\\s+")));
        Set<String> cur = new LinkedHashSet<>(Arrays.asList(slurp(file).trim().split("\\s+")));
        cur.remove("");
        for (String tok : value.trim().split("\\s+")) {
          String c = tok.substring(1);
          if (!avail.contains(c)) throw fail(file, value, "No such file or directory");
          if (tok.startsWith("+")) cur.add(c);
          else cur.remove(c);
        }
        put(file, String.join(" ", cur) + "\n");
        // Like kernfs: children's cgroup.controllers follow, and their interface files appear.
        try (Stream<Path> kids = Files.list(dir)) {
          for (Path k : kids.filter(Files::isDirectory).collect(Collectors.toList())) {
            put(k.resolve("cgroup.controllers"), String.join(" ", cur) + "\n");
            populate(k);
          }
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
        return;
      }
      case "cgroup.kill":
        // the members die, so they leave every hierarchy
        for (String pid : slurp(dir.resolve("cgroup.procs")).split("\n")) {
          if (!pid.isBlank()) dropPid(Long.parseLong(pid.trim()));
        }
        return;
      case "cgroup.freeze":
        put(file, value.trim() + "\n");
        put(dir.resolve("cgroup.events"), "populated 0\nfrozen " + value.trim() + "\n");
        return;
      case "io.max":
      case "blkio.throttle.read_bps_device":
      case "blkio.throttle.write_bps_device":
      case "blkio.throttle.read_iops_device":
      case "blkio.throttle.write_iops_device":
        append(file, value);
        return;
      default:
        super.write(file, value);
    }
  }

  @Override
  public boolean mkdir(Path dir) {
    boolean created = super.mkdir(dir);
    if (created) populate(dir);
    return created;
  }

  /** Runs before every rmdir; may throw to script a kernel refusal. */
  public volatile java.util.function.Consumer<Path> rmdirHook = dir -> {};

  @Override
  public synchronized void rmdir(Path dir) {
    rmdirHook.accept(dir);
    if (!Files.isDirectory(dir)) {
      super.rmdir(dir); // ENOENT
      return;
    }
    Path procs = dir.resolve("cgroup.procs");
    if (Files.exists(procs) && !slurp(procs).isBlank()) {
      throw new FsException("rmdir " + dir + ": Device or resource busy", Syscalls.EBUSY, "Device or resource busy", null);
    }
    try (Stream<Path> s = Files.list(dir)) {
      for (Path p : s.collect(Collectors.toList())) {
        if (Files.isDirectory(p)) {
          throw new FsException("rmdir " + dir + ": Device or resource busy", Syscalls.EBUSY, "Device or resource busy", null);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    try (Stream<Path> s = Files.list(dir)) {
      for (Path p : s.collect(Collectors.toList())) Files.delete(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    super.rmdir(dir);
  }

  /** Writes that touched {@code rel}-prefixed files, in order. */
  public List<String> writesUnder(String relPrefix) {
    synchronized (writes) {
      return writes.stream().filter(w -> w.startsWith(relPrefix)).collect(Collectors.toList());
    }
  }
}
