package dev.berth.testing;

import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * For the cgroup v2 VM tests of rootless Berth (run as root): a cgroup delegated to an ordinary user
 * the way systemd's {@code Delegate=yes} does it (the directory and its {@code cgroup.procs},
 * {@code cgroup.subtree_control} and {@code cgroup.threads} chowned to the user; the controllers
 * given enabled in the root-owned cgroup above it), and a child JVM run as that user inside it.
 * {@link #close()} kills what is left and removes every directory (the user's leaves first).
 */
public final class DelegatedCgroup implements AutoCloseable {
  public static final Path ROOT = Paths.get("/sys/fs/cgroup");
  public final long uid;
  public final long gid;
  /** The root-owned cgroup above (its subtree_control holds the delegated controllers). */
  public final Path top;
  /** The user's cgroup. */
  public final Path dir;

  private DelegatedCgroup(long uid, long gid, Path top, Path dir) {
    this.uid = uid;
    this.gid = gid;
    this.top = top;
    this.dir = dir;
  }

  /** Delegates {@code /sys/fs/cgroup/berth-it-deleg-<random>/user} to {@code user} with {@code controllers}. */
  public static DelegatedCgroup create(String user, String... controllers) throws IOException {
    long[] ids = ids(user);
    Path top = ROOT.resolve("berth-it-deleg-" + UUID.randomUUID().toString().substring(0, 8));
    Files.createDirectory(top);
    DelegatedCgroup d = new DelegatedCgroup(ids[0], ids[1], top, top.resolve("user"));
    try {
      StringBuilder enable = new StringBuilder();
      for (String c : controllers) enable.append(enable.length() == 0 ? "+" : " +").append(c);
      if (enable.length() > 0) Files.writeString(top.resolve("cgroup.subtree_control"), enable);
      Files.createDirectory(d.dir);
      d.chown(d.dir);
      for (String f : List.of("cgroup.procs", "cgroup.subtree_control", "cgroup.threads")) d.chown(d.dir.resolve(f));
    } catch (IOException | RuntimeException e) {
      d.close();
      throw e;
    }
    return d;
  }

  private static long[] ids(String user) throws IOException {
    for (String line : Files.readAllLines(Paths.get("/etc/passwd"))) {
      String[] f = line.split(":");
      if (f.length > 3 && f[0].equals(user)) return new long[] {Long.parseLong(f[2]), Long.parseLong(f[3])};
    }
    throw new IllegalStateException(user + " is not in /etc/passwd (.ci/rootless-suite.sh creates it on the host)");
  }

  /** Makes {@code p} the user's. */
  public void chown(Path p) throws IOException {
    Files.setAttribute(p, "unix:uid", (int) uid);
    Files.setAttribute(p, "unix:gid", (int) gid);
  }

  /**
   * Copies this JVM's class path (the class loaders' URLs and {@code java.class.path}) below
   * {@code dest}, readable by everyone (root's Maven repository is private); returns it as a class path.
   */
  public static String copyClassPath(Path dest) throws IOException {
    Set<Path> sources = new LinkedHashSet<>();
    for (ClassLoader cl = Thread.currentThread().getContextClassLoader(); cl != null; cl = cl.getParent()) {
      if (cl instanceof URLClassLoader u) {
        for (URL url : u.getURLs()) {
          try {
            sources.add(Paths.get(url.toURI()));
          } catch (URISyntaxException | IllegalArgumentException e) {
            // not a file
          }
        }
      }
    }
    for (String e : System.getProperty("java.class.path", "").split(":")) {
      if (!e.isEmpty()) sources.add(Paths.get(e).toAbsolutePath());
    }
    Files.createDirectories(dest);
    List<String> cp = new ArrayList<>();
    int n = 0;
    for (Path s : sources) {
      if (!Files.exists(s)) continue;
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
    Path tmp = Paths.get(System.getProperty("java.io.tmpdir")).toAbsolutePath();
    for (Path p = dest.toAbsolutePath(); p != null && !p.equals(tmp); p = p.getParent()) {
      if (p.startsWith(tmp)) { // the test's own temp directories, up to (not including) the shared one
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
      }
    }
    try (Stream<Path> w = Files.walk(dest)) {
      for (Path p : (Iterable<Path>) w::iterator) {
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(Files.isDirectory(p) ? "rwxr-xr-x" : "rw-r--r--"));
      }
    }
    return String.join(":", cp);
  }

  /** What the child printed (stdout and stderr) and its exit code. */
  public record Run(int exitCode, String output) {}

  /**
   * Runs {@code mainClass} with {@code args} in a JVM as the user, in {@link #dir} ({@code setpriv
   * --reuid/--regid --clear-groups}), with HOME and the temp dirs in {@code home} (made the user's).
   */
  public Run runJava(String classPath, Path home, String mainClass, List<String> args, long timeoutSeconds)
      throws IOException, InterruptedException {
    chown(home);
    String java = ProcessHandle.current().info().command().orElse("java");
    StringBuilder script = new StringBuilder("echo $$ > " + dir.resolve("cgroup.procs") + " && exec setpriv --reuid=" + uid
        + " --regid=" + gid + " --clear-groups env -u XDG_RUNTIME_DIR HOME=" + home + " XDG_CACHE_HOME=" + home + "/.cache "
        + java + " -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx256m -Djava.io.tmpdir=" + home + " -Djna.tmpdir=" + home
        + " -cp " + classPath + " " + mainClass);
    for (String a : args) script.append(' ').append(a);
    Process p = new ProcessBuilder("/bin/sh", "-c", script.toString()).redirectErrorStream(true).start();
    try {
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) throw new IllegalStateException("child JVM still running: " + out);
      return new Run(p.exitValue(), out);
    } finally {
      p.destroyForcibly();
    }
  }

  /** Kills what is left in the cgroups and removes them, deepest first. */
  @Override
  public void close() throws IOException {
    List<Path> all = new ArrayList<>();
    if (Files.isDirectory(top)) {
      try (Stream<Path> w = Files.walk(top)) {
        w.filter(Files::isDirectory).forEach(all::add);
      }
    }
    all.sort((a, b) -> b.getNameCount() - a.getNameCount());
    for (Path d : all) {
      try {
        Files.writeString(d.resolve("cgroup.kill"), "1");
      } catch (IOException e) {
        // gone or empty
      }
    }
    for (Path d : all) {
      for (int i = 0; i < 250 && Files.exists(d); i++) {
        try {
          Files.delete(d);
        } catch (IOException e) {
          try {
            Thread.sleep(20);
          } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            break;
          }
        }
      }
      if (Files.exists(d)) throw new IOException("cannot remove " + d);
    }
  }
}
