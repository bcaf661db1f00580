package dev.berth.cgroups;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a JVM that is not root (rootless Berth) may use of the host's cgroups: the cgroup v2
 * subtree delegated to its effective uid, the way systemd delegates one ({@code Delegate=yes}: the
 * directory and its {@code cgroup.procs}, {@code cgroup.subtree_control} and {@code cgroup.threads}
 * are chowned to the user), or why there is none.
 *
 * <p>The candidate is the JVM's own cgroup ({@code 0::/path} of {@code /proc/self/cgroup}) on a
 * host whose cgroups are v2 only. A hybrid or v1 host has none: systemd delegates nothing of the v1
 * controllers to users. {@link #detect(Path, Path, long, Host)} is a pure function of what
 * {@link Host} reads, so the runtime's driver selection and the preflight's {@code cgroupDelegation}
 * check decide with the same code, and unit tests feed it the files of other hosts.
 */
public final class Delegation {
  /** The interface files systemd chowns to the user besides the directory itself. */
  public static final List<String> DELEGATED_FILES = List.of("cgroup.procs", "cgroup.subtree_control", "cgroup.threads");
  /** Where the user-facing page explains how to get delegation. */
  public static final String DOC = "docs/rootless.md";

  private static final Path HOST_CGROUP_ROOT = Paths.get("/sys/fs/cgroup");
  private static final Set<String> V1_CONTROLLERS = Set.of("cpu", "cpuacct", "cpuset", "memory", "blkio", "pids",
      "freezer", "devices", "hugetlb", "net_cls", "net_prio", "perf_event", "rdma", "misc");

  /** What detection reads of the host: a file's text and a file's owner. */
  public interface Host {
    /** The text of a file; empty when it does not exist or cannot be read. */
    Optional<String> read(Path file);

    /** The owner uid of a file or directory (not following a symbolic link); empty when it does not exist. */
    OptionalLong owner(Path file);

    /** The real system. */
    static Host system() {
      return new Host() {
        @Override
        public Optional<String> read(Path file) {
          try {
            return Optional.of(new String(Files.readAllBytes(file), StandardCharsets.UTF_8));
          } catch (IOException | SecurityException e) {
            return Optional.empty();
          }
        }

        @Override
        public OptionalLong owner(Path file) {
          try {
            return OptionalLong.of(((Number) Files.getAttribute(file, "unix:uid", LinkOption.NOFOLLOW_LINKS)).longValue());
          } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return OptionalLong.empty();
          }
        }
      };
    }
  }

  private final long uid;
  private final Path directory;
  private final List<String> controllers;
  private final String finding;

  private Delegation(long uid, Path directory, List<String> controllers, String finding) {
    this.uid = uid;
    this.directory = directory;
    this.controllers = List.copyOf(controllers);
    this.finding = finding;
  }

  /** A delegated subtree at {@code directory} with these controllers available (cgroup.controllers). */
  public static Delegation found(long uid, Path directory, List<String> controllers) {
    Objects.requireNonNull(directory, "directory");
    return new Delegation(uid, directory, controllers, directory + " (controllers: "
        + (controllers.isEmpty() ? "none" : String.join(" ", controllers)) + ")");
  }

  /** No delegated subtree; {@code why} says what was found instead (e.g. "hybrid host …"). */
  public static Delegation none(long uid, String why) {
    return new Delegation(uid, null, List.of(), Objects.requireNonNull(why, "why"));
  }

  /** Detection on this host: {@code /sys/fs/cgroup}, {@code /proc}, the real files. */
  public static Delegation detect(long euid) {
    return detect(HOST_CGROUP_ROOT, Paths.get("/proc"), euid, Host.system());
  }

  /**
   * Detection from {@code <procRoot>/self/mountinfo} (which hierarchies are mounted; mount points
   * below {@code /sys/fs/cgroup} are read below {@code cgroupRoot}), {@code <procRoot>/self/cgroup}
   * and the owners and {@code cgroup.controllers} of the JVM's own v2 cgroup.
   */
  public static Delegation detect(Path cgroupRoot, Path procRoot, long euid, Host host) {
    Path mountinfo = procRoot.resolve("self/mountinfo");
    Path procCgroup = procRoot.resolve("self/cgroup");
    Path v2 = null;
    Set<String> v1 = new TreeSet<>();
    for (String line : host.read(mountinfo).orElse("").split("\n")) {
      String[] f = line.split(" ");
      int sep = Arrays.asList(f).indexOf("-");
      if (f.length < 5 || sep < 6 || sep + 1 >= f.length) {
        continue;
      }
      String fsType = f[sep + 1];
      if (fsType.equals("cgroup2") && v2 == null) {
        v2 = rebase(cgroupRoot, unescape(f[4]));
      } else if (fsType.equals("cgroup") && sep + 3 < f.length) {
        for (String o : f[sep + 3].split(",")) {
          if (V1_CONTROLLERS.contains(o)) {
            v1.add(o);
          }
        }
      }
    }
    if (v2 == null) {
      return none(euid, v1.isEmpty() ? "no cgroup file system mounted (" + mountinfo + ")"
          : "cgroup v1 host: controllers " + String.join(" ", v1) + ", no cgroup v2 hierarchy");
    }
    if (!v1.isEmpty()) {
      return none(euid, "hybrid host: controllers " + String.join(" ", v1) + " are cgroup v1, which is not delegated"
          + " to users; the cgroup v2 hierarchy at " + v2 + " has " + controllersText(host, v2));
    }
    String own = null;
    for (String line : host.read(procCgroup).orElse("").split("\n")) {
      if (line.startsWith("0::")) {
        own = line.substring(3).strip();
      }
    }
    if (own == null || !own.startsWith("/")) {
      return none(euid, "no cgroup v2 line (0::/path) in " + procCgroup);
    }
    Path dir = own.equals("/") ? v2 : v2.resolve(own.substring(1));
    if (own.contains("/../") || own.endsWith("/..") || !dir.normalize().startsWith(v2)) {
      return none(euid, "the cgroup " + own + " of " + procCgroup + " lies outside " + v2);
    }
    List<Path> files = new ArrayList<>();
    files.add(dir);
    for (String name : DELEGATED_FILES) {
      files.add(dir.resolve(name));
    }
    for (Path p : files) {
      OptionalLong owner = host.owner(p);
      if (owner.isEmpty()) {
        return none(euid, p + " does not exist (the JVM's cgroup from " + procCgroup + ")");
      }
      if (owner.getAsLong() != euid) {
        return none(euid, p + " is owned by uid " + owner.getAsLong() + ", not " + euid
            + ": the JVM's cgroup is not delegated to this user");
      }
    }
    return found(euid, dir, words(host.read(dir.resolve("cgroup.controllers")).orElse("")));
  }

  private static String controllersText(Host host, Path dir) {
    List<String> c = words(host.read(dir.resolve("cgroup.controllers")).orElse(""));
    return c.isEmpty() ? "no controllers" : "controllers " + String.join(" ", c);
  }

  /** The effective uid this was detected for. */
  public long uid() {
    return uid;
  }

  public boolean delegated() {
    return directory != null;
  }

  /** The delegated cgroup (the JVM's own), when there is one. */
  public Optional<Path> directory() {
    return Optional.ofNullable(directory);
  }

  /** The controllers available in the delegated cgroup ({@code cgroup.controllers}); empty without one. */
  public List<String> controllers() {
    return controllers;
  }

  /** What was found: the delegated directory and its controllers, or why there is none. */
  public String finding() {
    return finding;
  }

  /**
   * The limits of {@code r} by the option a user gives for each (the launcher's spelling, e.g.
   * {@code --memory}; {@code --cgroup-conf KEY} for a raw v2 key) and the v2 controller each needs,
   * in a stable order. Device rules are not among them: they need a BPF program, not a controller.
   */
  public static Map<String, String> options(Resources r) {
    Map<String, String> o = new LinkedHashMap<>();
    if (r.memoryMax().isPresent()) o.put("--memory", "memory");
    if (r.memoryReservation().isPresent()) o.put("--memory-reservation", "memory");
    if (r.memoryHigh().isPresent()) o.put("--memory-high", "memory");
    if (r.memorySwap().isPresent()) o.put("--memory-swap", "memory");
    if (r.cpus().isPresent()) o.put("--cpus", "cpu");
    if (r.cpuShares().isPresent()) o.put("--cpu-shares", "cpu");
    if (r.cpuWeight().isPresent()) o.put("--cpu-weight", "cpu");
    if (r.cpusetCpus().isPresent()) o.put("--cpuset-cpus", "cpuset");
    if (r.cpusetMems().isPresent()) o.put("--cpuset-mems", "cpuset");
    if (r.ioWeight().isPresent()) o.put("--blkio-weight", "io");
    for (DeviceThrottle t : r.deviceThrottles()) {
      if (t.readBps().isPresent()) o.put("--device-read-bps", "io");
      if (t.writeBps().isPresent()) o.put("--device-write-bps", "io");
      if (t.readIops().isPresent()) o.put("--device-read-iops", "io");
      if (t.writeIops().isPresent()) o.put("--device-write-iops", "io");
    }
    if (r.pidsMax().isPresent()) o.put("--pids-limit", "pids");
    for (String key : r.unified().keySet()) {
      o.put("--cgroup-conf " + key, key.substring(0, key.indexOf('.')));
    }
    return o;
  }

  /**
   * The one-line refusal of the first limit of {@code r} this delegation cannot honour, e.g.
   * {@code rootless: --memory needs a delegated cgroup v2 subtree (none found for uid 1000: hybrid
   * host …; see docs/rootless.md)}; empty when all of them can be.
   */
  public Optional<String> refusal(Resources r) {
    if (!r.devices().isEmpty()) {
      return Optional.of("rootless: --device-cgroup-rule needs a BPF device program on the container's cgroup,"
          + " which the kernel lets only root attach (drop the rule or run Berth as root; see " + DOC + ")");
    }
    for (Map.Entry<String, String> e : options(r).entrySet()) {
      if (directory == null) {
        return Optional.of("rootless: " + e.getKey() + " needs a delegated cgroup v2 subtree (none found for uid " + uid
            + ": " + finding + "; see " + DOC + ")");
      }
      if (!controllers.contains(e.getValue())) {
        return Optional.of("rootless: " + e.getKey() + " needs the cgroup v2 controller '" + e.getValue()
            + "', which is not delegated to uid " + uid + " (" + finding + "; add it to Delegate= of the unit; see "
            + DOC + ")");
      }
    }
    return Optional.empty();
  }

  private static List<String> words(String s) {
    List<String> out = new ArrayList<>();
    for (String w : s.trim().split("\\s+")) {
      if (!w.isEmpty()) {
        out.add(w);
      }
    }
    return out;
  }

  private static Path rebase(Path cgroupRoot, String mountPoint) {
    Path mp = Paths.get(mountPoint);
    return mp.startsWith(HOST_CGROUP_ROOT) ? cgroupRoot.resolve(HOST_CGROUP_ROOT.relativize(mp).toString()) : mp;
  }

  private static String unescape(String s) {
    return s.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\");
  }

  @Override
  public String toString() {
    return (delegated() ? "delegated to uid " : "no delegation for uid ") + uid + ": " + finding;
  }
}
