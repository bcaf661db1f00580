package dev.berth.cgroups;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.BerthException;
import dev.berth.cgroups.testing.DelegatedUserMain;
import dev.berth.linux.internal.LinuxConstants;
import dev.berth.testing.RequiresCgroupV2;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rootless cgroups on a real cgroup v2 kernel (the VM suite, as root): a cgroup is delegated to the
 * unprivileged user berth-rootless the way systemd's Delegate=yes does (the directory and its
 * cgroup.procs, cgroup.subtree_control and cgroup.threads chowned; memory and pids enabled above it,
 * cpu not), and a child JVM run as that user inside it ({@link DelegatedUserMain}) finds the
 * delegation, refuses --cpus naming the controller, enforces a memory and a pids limit through the
 * unprivileged driver, and leaves nothing but the leaf it moved itself into.
 */
@RequiresCgroupV2
class DelegatedCgroupV2IT {
  static final Path ROOT = Paths.get("/sys/fs/cgroup");
  static final String USER = "berth-rootless";
  @TempDir Path tmp;
  final List<Path> dirs = new ArrayList<>();

  @AfterEach
  void cleanUp() throws Exception {
    Collections.reverse(dirs);
    for (Path d : dirs) {
      if (Files.exists(d.resolve("cgroup.kill"))) {
        try {
          Files.writeString(d.resolve("cgroup.kill"), "1");
        } catch (IOException e) {
          // gone or empty
        }
      }
      for (int i = 0; i < 200 && Files.exists(d); i++) {
        try {
          Files.delete(d);
        } catch (IOException e) {
          Thread.sleep(20);
        }
      }
      assertThat(d).doesNotExist();
    }
  }

  private static long[] ids(String user) throws Exception {
    for (String line : Files.readAllLines(Paths.get("/etc/passwd"))) {
      String[] f = line.split(":");
      if (f[0].equals(user)) return new long[] {Long.parseLong(f[2]), Long.parseLong(f[3])};
    }
    throw new AssertionError(user + " is not in /etc/passwd (.ci/rootless-suite.sh creates it on the host)");
  }

  private static void chown(Path p, long uid, long gid) throws IOException {
    Files.setAttribute(p, "unix:uid", (int) uid);
    Files.setAttribute(p, "unix:gid", (int) gid);
  }

  /** The child's class path, copied where the unprivileged user can read it (root's ~/.m2 is private). */
  private String classPath(Path dest) throws Exception {
    Set<Path> sources = new LinkedHashSet<>();
    for (Class<?> c : List.of(DelegatedUserMain.class, Delegation.class, LinuxConstants.class, BerthException.class,
        com.sun.jna.Native.class, org.slf4j.LoggerFactory.class)) {
      sources.add(Paths.get(c.getProtectionDomain().getCodeSource().getLocation().toURI()));
    }
    List<String> cp = new ArrayList<>();
    int n = 0;
    for (Path s : sources) {
      Path d = dest.resolve((n++) + "-" + s.getFileName());
      if (Files.isDirectory(s)) {
        try (Stream<Path> w = Files.walk(s)) {
          for (Path p : (Iterable<Path>) w::iterator) {
            Path t = d.resolve(s.relativize(p).toString());
            if (Files.isDirectory(p)) Files.createDirectories(t);
            else Files.copy(p, t, StandardCopyOption.REPLACE_EXISTING);
          }
        }
      } else {
        Files.copy(s, d);
      }
      cp.add(d.toString());
    }
    try (Stream<Path> w = Files.walk(dest)) {
      for (Path p : (Iterable<Path>) w::iterator) {
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(Files.isDirectory(p) ? "rwxr-xr-x" : "rw-r--r--"));
      }
    }
    return String.join(":", cp);
  }

  @Test
  void aDelegatedUserEnforcesMemoryAndPidsLimitsAndCleansUp() throws Exception {
    long[] u = ids(USER);
    Path top = ROOT.resolve("berth-it-deleg-" + UUID.randomUUID().toString().substring(0, 8));
    Files.createDirectory(top);
    dirs.add(top);
    Files.writeString(top.resolve("cgroup.subtree_control"), "+memory +pids"); // cpu is not delegated
    Path user = top.resolve("user");
    Files.createDirectory(user);
    dirs.add(user);
    chown(user, u[0], u[1]);
    for (String f : Delegation.DELEGATED_FILES) chown(user.resolve(f), u[0], u[1]);
    dirs.add(user.resolve("supervisor")); // where the child moves itself

    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
    String cp = classPath(Files.createDirectory(tmp.resolve("cp")));
    Path home = Files.createDirectory(tmp.resolve("home"));
    chown(home, u[0], u[1]);
    String java = ProcessHandle.current().info().command().orElse("java");
    String script = "echo $$ > " + user.resolve("cgroup.procs") + " && exec setpriv --reuid=" + u[0] + " --regid=" + u[1]
        + " --clear-groups env HOME=" + home + " XDG_CACHE_HOME=" + home + "/.cache " + java
        + " -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx128m -Djava.io.tmpdir=" + home + " -Djna.tmpdir=" + home
        + " -cp " + cp + " " + DelegatedUserMain.class.getName();
    Process p = new ProcessBuilder("/bin/sh", "-c", script).redirectErrorStream(true).start();
    String out;
    try {
      out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(p.waitFor(300, TimeUnit.SECONDS)).as("child done").isTrue();
    } finally {
      p.destroyForcibly();
    }
    assertThat(p.exitValue()).as(out).isZero();
    Map<String, String> facts = new LinkedHashMap<>();
    for (String line : out.split("\n")) {
      int eq = line.indexOf('=');
      if (eq > 0 && !line.startsWith("[")) facts.putIfAbsent(line.substring(0, eq), line.substring(eq + 1));
    }
    String found = user + " (controllers: memory pids)";
    assertThat(facts).as(out)
        .containsEntry("euid", Long.toString(u[0]))
        .containsEntry("delegated", "true")
        .containsEntry("finding", found)
        .containsEntry("refusal.cpus", "rootless: --cpus needs the cgroup v2 controller 'cpu', which is not delegated to uid "
            + u[0] + " (" + found + "; add it to Delegate= of the unit; see docs/rootless.md)")
        .containsEntry("refusal.memory", "none")
        .containsEntry("devicePolicy", "false")
        .containsEntry("cgroup", user.resolve("berth/hog").toString())
        .containsEntry("memory.max", Long.toString(32L << 20))
        .containsEntry("pids.max", "16")
        .containsEntry("hog.exit", Integer.toString(128 + 9))
        .containsEntry("bomb.forkFailed", "true")
        .containsEntry("parentLeft", "false");
    assertThat(Long.parseLong(facts.get("oom_kill"))).as("the hog was OOM-killed in its cgroup").isPositive();
    assertThat(facts.get("bomb.exit")).as("the fork loop stopped short of 100").isNotEqualTo("0");
    assertThat(Integer.parseInt(facts.get("bomb.pids"))).as("the fork bomb held at pids.max").isBetween(2, 16);
    assertThat(out).contains("\nok\n");
    // what is left: the leaf the child moved itself into (now empty), and the controllers it enabled
    try (Stream<Path> s = Files.list(user)) {
      assertThat(s.filter(Files::isDirectory).map(x -> x.getFileName().toString())).containsExactly("supervisor");
    }
    assertThat(Files.readString(user.resolve("supervisor/cgroup.procs"))).isBlank();
    assertThat(Files.readString(user.resolve("cgroup.subtree_control")).trim().split(" ")).contains("memory", "pids");
    assertThat(Files.readString(top.resolve("cgroup.subtree_control")).trim()).isEqualTo("memory pids");
  }
}
