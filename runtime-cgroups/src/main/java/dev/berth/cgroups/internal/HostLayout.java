package dev.berth.cgroups.internal;

import dev.berth.cgroups.CgroupException;
import dev.berth.cgroups.CgroupMode;
import dev.berth.cgroups.internal.linux.SyscallException;
import dev.berth.cgroups.internal.linux.Syscalls;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Where the hierarchies are mounted and where this process sits in each, from statfs magic of the
 * cgroupfs root, {@code /proc/self/mountinfo} and {@code /proc/self/cgroup}.
 */
public record HostLayout(CgroupMode mode, Optional<Path> unifiedMount, String unifiedOwnPath, List<V1Hierarchy> v1) {

  /** The v1 controllers Berth uses (name=systemd is left alone). */
  public static final List<String> V1_CONTROLLERS =
      List.of("cpu", "cpuacct", "cpuset", "memory", "blkio", "pids", "freezer", "devices");

  private static final String HOST_CGROUP_ROOT = "/sys/fs/cgroup";

  /** One mounted v1 hierarchy: its controllers, mount point, and this process's cgroup in it. */
  public record V1Hierarchy(Set<String> controllers, Path mountPoint, String ownPath) {
    public Path ownDir() {
      return resolve(mountPoint, ownPath);
    }
  }

  public HostLayout {
    v1 = List.copyOf(v1);
  }

  public Optional<V1Hierarchy> hierarchy(String controller) {
    return v1.stream().filter(h -> h.controllers().contains(controller)).findFirst();
  }

  public Optional<Path> unifiedOwnDir() {
    return unifiedMount.map(m -> resolve(m, unifiedOwnPath));
  }

  /** Resolves an absolute cgroup path ("/a/b") below a mount point. */
  public static Path resolve(Path mount, String cgroupPath) {
    String rel = cgroupPath.startsWith("/") ? cgroupPath.substring(1) : cgroupPath;
    return rel.isEmpty() ? mount : mount.resolve(rel);
  }

  public static HostLayout detect(Path cgroupRoot, Path procRoot, Syscalls sys, Optional<CgroupMode> force) {
    Map<String, String> procCgroup = parseProcCgroup(read(procRoot.resolve("self/cgroup")));
    String unifiedOwn = procCgroup.getOrDefault("", "/");
    CgroupMode mode = force.orElseGet(() -> detectMode(cgroupRoot, sys));
    if (mode == CgroupMode.UNIFIED) {
      if (!procCgroup.containsKey("")) {
        throw new CgroupException(procRoot.resolve("self/cgroup") + " has no cgroup v2 line (0::/path) although "
            + cgroupRoot + " is cgroup2");
      }
      return new HostLayout(mode, Optional.of(cgroupRoot), unifiedOwn, List.of());
    }
    List<V1Hierarchy> hs = new ArrayList<>();
    Path mountinfo = procRoot.resolve("self/mountinfo");
    Set<String> seen = new LinkedHashSet<>();
    if (Files.exists(mountinfo)) {
      for (String line : read(mountinfo).split("\n")) {
        MountLine m = MountLine.parse(line);
        if (m == null || !m.fstype.equals("cgroup")) continue;
        Set<String> ctrls = new LinkedHashSet<>();
        for (String o : m.superOptions.split(",")) {
          if (V1_CONTROLLERS.contains(o)) ctrls.add(o);
        }
        if (ctrls.isEmpty() || seen.containsAll(ctrls)) continue;
        Path mp = rebase(cgroupRoot, m.mountPoint);
        String own = ownPathFor(procCgroup, ctrls);
        if (own == null) continue;
        if (!m.root.equals("/") && (own.equals(m.root) || own.startsWith(m.root + "/"))) {
          own = own.substring(m.root.length());
          if (own.isEmpty()) own = "/";
        }
        seen.addAll(ctrls);
        hs.add(new V1Hierarchy(ctrls, mp, own));
      }
    }
    // Fallback without mountinfo: <root>/<controller> directories.
    for (String c : V1_CONTROLLERS) {
      if (seen.contains(c)) continue;
      Path mp = cgroupRoot.resolve(c);
      String own = ownPathFor(procCgroup, Set.of(c));
      if (Files.isDirectory(mp) && own != null && !Files.exists(mountinfo)) {
        seen.add(c);
        hs.add(new V1Hierarchy(Set.of(c), mp, own));
      }
    }
    Optional<Path> unified = Optional.empty();
    if (mode == CgroupMode.HYBRID) {
      unified = Optional.of(cgroupRoot.resolve("unified"));
    }
    return new HostLayout(mode, unified, unifiedOwn, hs);
  }

  static CgroupMode detectMode(Path root, Syscalls sys) {
    long magic;
    try {
      magic = sys.statfsType(root.toString());
    } catch (SyscallException e) {
      throw new CgroupException("cannot detect cgroups: " + e.getMessage(), e);
    }
    if (magic == Syscalls.CGROUP2_SUPER_MAGIC) return CgroupMode.UNIFIED;
    if (magic != Syscalls.TMPFS_MAGIC) {
      throw new CgroupException(String.format(Locale.ROOT,
          "cannot detect cgroups: %s is neither cgroup2 (0x63677270) nor a tmpfs of v1 hierarchies (0x01021994), statfs magic 0x%x",
          root, magic));
    }
    Path unified = root.resolve("unified");
    if (Files.isDirectory(unified)) {
      try {
        if (sys.statfsType(unified.toString()) == Syscalls.CGROUP2_SUPER_MAGIC) return CgroupMode.HYBRID;
      } catch (SyscallException e) {
        // not mounted: legacy
      }
    }
    return CgroupMode.LEGACY;
  }

  /** controller list ("cpu,cpuacct", "" for v2, "name=systemd") → path. */
  static Map<String, String> parseProcCgroup(String content) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String line : content.split("\n")) {
      if (line.isBlank()) continue;
      String[] f = line.split(":", 3);
      if (f.length < 3) continue;
      out.put(f[1], f[2].trim());
    }
    return out;
  }

  private static String ownPathFor(Map<String, String> procCgroup, Set<String> ctrls) {
    for (Map.Entry<String, String> e : procCgroup.entrySet()) {
      if (e.getKey().isEmpty()) continue;
      Set<String> s = new LinkedHashSet<>(Arrays.asList(e.getKey().split(",")));
      if (s.containsAll(ctrls)) return e.getValue();
    }
    return null;
  }

  private static Path rebase(Path cgroupRoot, String mountPoint) {
    if (mountPoint.equals(HOST_CGROUP_ROOT)) return cgroupRoot;
    if (mountPoint.startsWith(HOST_CGROUP_ROOT + "/")) {
      return cgroupRoot.resolve(mountPoint.substring(HOST_CGROUP_ROOT.length() + 1));
    }
    return Paths.get(mountPoint);
  }

  private static String read(Path p) {
    try {
      return new String(Files.readAllBytes(p), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new CgroupException("read " + p + ": " + CgroupFs.errorText(e), e);
    }
  }

  private record MountLine(String root, String mountPoint, String fstype, String superOptions) {
    static MountLine parse(String line) {
      String[] f = line.split(" ");
      int sep = -1;
      for (int i = 6; i < f.length; i++) {
        if (f[i].equals("-")) {
          sep = i;
          break;
        }
      }
      if (f.length < 7 || sep < 0 || sep + 3 >= f.length + 1 || sep + 1 >= f.length) return null;
      String superOpts = sep + 3 < f.length ? f[sep + 3] : "";
      return new MountLine(unescape(f[3]), unescape(f[4]), f[sep + 1], superOpts);
    }

    static String unescape(String s) {
      return s.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\");
    }
  }
}
