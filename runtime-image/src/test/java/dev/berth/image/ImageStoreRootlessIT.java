package dev.berth.image;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.image.Fixtures.Layer;
import dev.berth.image.Fixtures.Tar;
import dev.berth.image.internal.linux.LinuxFs;
import dev.berth.image.internal.linux.LinuxFs.Stat;
import dev.berth.image.registry.Credentials;
import dev.berth.image.registry.PullOptions;
import dev.berth.testing.LoopbackRegistry;
import dev.berth.testing.Preconditions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The image store run by an ordinary user (.ci/rootless-suite.sh): an image with entries of other
 * owners, setuid files, a device node, a whiteout, an opaque directory and hostile overlay xattrs
 * is imported into a store the user owns; the files on disk are the user's, the owners list holds
 * what the tar said, and the layers mounted by the user as an overlay with {@code userxattr} (in
 * {@code unshare -r -m}, as the rootless runtime mounts them) show the whiteout and the opaque
 * directory working and the image's own overlay xattrs doing nothing. Also a pull from a loopback
 * registry run by the user, and concurrent imports of one image.
 */
class ImageStoreRootlessIT {
  @TempDir Path tmp;
  int uid;

  @BeforeEach
  void unprivileged() {
    uid = (int) Preconditions.requireUnprivileged();
  }

  static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** The lower layer: owners 0, 33 and 1000, setuid files, a device node, and content to hide. */
  static byte[] lower() {
    TarArchiveEntry dev = Fixtures.owned("dev/null", TarArchiveEntry.LF_CHR, 0, 0, 0666);
    dev.setDevMajor(1);
    dev.setDevMinor(3);
    return new Tar()
        .dir("etc").ownedFile("etc/gone", 0, 0, 0644, b("lower"))
        .ownedFile("etc/kept", 0, 0, 0644, b("kept"))
        .ownedDir("www/", 33, 33, 0755)
        .ownedFile("www/index.html", 33, 33, 0644, b("hi"))
        .dir("bin")
        .ownedFile("bin/suid-root", 0, 0, 04755, b("#!"))
        .ownedFile("bin/suid-user", 1000, 1000, 04755, b("#!"))
        .dir("dev").entry(dev, null)
        .dir("opq").file("opq/lower-only", "l")
        .dir("hostile").file("hostile/lower-file", "l")
        .dir("redir").file("redir/own", "o")
        // directories the user may not write (or even read) once done, with entries inside
        .dir("usr", 0555).dir("usr/lib", 0555).file("usr/lib/inside", "i").dir("sealed", 0).file("sealed/secret", "s")
        .file("late/first", "f").dir("late", 0500)
        .bytes();
  }

  /** The upper layer: a whiteout, an opaque directory, and overlay xattrs an image must not steer with. */
  static byte[] upper() {
    return new Tar()
        .dir("etc").file("etc/.wh.gone", "")
        .dir("opq").file("opq/.wh..wh..opq", "").file("opq/upper-only", "u")
        .dirWithXattrs("hostile", Map.of("user.overlay.opaque", "y"))
        .file("hostile/upper-file", "u")
        .dirWithXattrs("redir", Map.of("user.overlay.redirect", "/www"))
        .bytes();
  }

  Path layout(String name, byte[]... tars) throws IOException {
    Path l = tmp.resolve("layout-" + name);
    Fixtures.writeLayout(l, name, Stream.of(tars).map(Layer::gzip).toList(), null);
    return l;
  }

  static Stat lstat(Path p) throws IOException {
    return LinuxFs.lstatat(LinuxFs.AT_FDCWD, p.toString());
  }

  static String run(Path cwd, String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(String.join(" ", cmd) + ":\n" + out).isZero();
    return out;
  }

  @Test
  void importedImageIsTheUsersAndItsOverlayBehaves() throws Exception {
    byte[] lo = lower();
    byte[] up = upper();
    Path root = tmp.resolve("store");
    Path l1;
    Path l2;
    try (ImageStore store = ImageStore.open(root)) {
      assertThat(store.rootless()).isTrue();
      store.importImage(layout("img", lo, up), Optional.of("img:1"), null);
      l1 = store.layerDir(Digest.sha256Of(lo));
      l2 = store.layerDir(Digest.sha256Of(up));
      try (PreparedImage p = store.prepare("img:1")) {
        assertThat(p.lowerDirs()).containsExactly(l2, l1);
      }
    }
    // on disk: everything is the user's; the owners the tar named are in the list
    List<Path> all = new ArrayList<>();
    for (Path l : List.of(l1, l2)) {
      Files.walkFileTree(l, new java.nio.file.SimpleFileVisitor<>() {
        @Override
        public java.nio.file.FileVisitResult preVisitDirectory(Path dir, java.nio.file.attribute.BasicFileAttributes a) {
          all.add(dir);
          return java.nio.file.FileVisitResult.CONTINUE;
        }

        @Override
        public java.nio.file.FileVisitResult visitFile(Path file, java.nio.file.attribute.BasicFileAttributes a) {
          all.add(file);
          return java.nio.file.FileVisitResult.CONTINUE;
        }

        @Override
        public java.nio.file.FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
          // sealed/ is mode 0000: its owner checks it, but cannot list it
          if (!file.equals(l1.resolve("sealed"))) {
            throw e;
          }
          all.add(file);
          return java.nio.file.FileVisitResult.CONTINUE;
        }
      });
    }
    assertThat(all).hasSizeGreaterThan(30);
    for (Path p : all) {
      assertThat(lstat(p).uid()).as("owner of " + p).isEqualTo(uid);
    }
    assertThat(LayerOwners.read(l1)).containsExactly(
        new LayerOwners.Entry("www", 33, 33, 0755),
        new LayerOwners.Entry("www/index.html", 33, 33, 0644),
        new LayerOwners.Entry("bin/suid-user", 1000, 1000, 04755));
    assertThat(LayerOwners.fileFor(l2)).as("every entry of the upper layer is root's").doesNotExist();
    assertThat(lstat(l1.resolve("bin/suid-root")).mode() & 07777).isEqualTo(04755);
    assertThat(lstat(l1.resolve("bin/suid-user")).mode() & 07777).isEqualTo(04755);
    Stat dev = lstat(l1.resolve("dev/null"));
    assertThat(dev.type()).as("the device node is a placeholder file").isEqualTo(LinuxFs.S_IFREG);
    assertThat(dev.mode() & 07777).isZero();
    assertThat(Files.size(l1.resolve("dev/null"))).isZero();
    assertThat(lstat(l2.resolve("etc/gone")).isWhiteout()).as("char 0:0 whiteout").isTrue();
    assertThat(lstat(l1.resolve("usr/lib")).mode() & 07777).isEqualTo(0555);
    assertThat(lstat(l1.resolve("sealed")).mode() & 07777).isZero();
    assertThat(lstat(l1.resolve("late")).mode() & 07777).isEqualTo(0500);
    assertThat(Files.readString(l1.resolve("usr/lib/inside"))).isEqualTo("i");
    assertThat(LinuxFs.lgetxattr(l2.resolve("opq").toString(), "user.overlay.opaque")).containsExactly('y');
    assertThat(LinuxFs.lgetxattr(l2.resolve("hostile").toString(), "user.overlay.opaque")).isNull();
    assertThat(LinuxFs.lgetxattr(l2.resolve("hostile").toString(), "user.overlay.overlay.opaque")).containsExactly('y');
    assertThat(LinuxFs.lgetxattr(l2.resolve("redir").toString(), "user.overlay.redirect")).isNull();
    assertThat(LinuxFs.lgetxattr(l2.resolve("redir").toString(), "user.overlay.overlay.redirect")).isEqualTo(b("/www"));

    // the merged view, mounted by the user as the rootless runtime mounts it
    Path mnt = Files.createDirectory(tmp.resolve("mnt"));
    Path upperDir = Files.createDirectory(tmp.resolve("upper"));
    Path work = Files.createDirectory(tmp.resolve("work"));
    String script = "set -e; mount -t overlay berth -o lowerdir=" + l2 + ":" + l1 + ",upperdir=" + upperDir
        + ",workdir=" + work + ",userxattr " + mnt + "; cd " + mnt
        + "; cat sealed/secret; echo; for d in etc opq hostile redir; do echo \"$d: $(ls -A $d | tr '\\n' ' ')\"; done"
        + "; echo \"id: $(id -u)\"; cat www/index.html; echo";
    String out = run(tmp, "unshare", "-r", "-m", "sh", "-c", script);
    assertThat(out).as("the whiteout hides the lower file").contains("etc: kept \n");
    assertThat(out).as("the opaque directory hides its lower content").contains("opq: upper-only \n");
    assertThat(out).as("the image's user.overlay.opaque does nothing").contains("hostile: lower-file upper-file \n");
    assertThat(out).as("the image's user.overlay.redirect does nothing").contains("redir: own \n");
    assertThat(out).contains("id: 0").contains("hi").as("the container's root reads a 0000 directory").startsWith("s\n");
    assertThat(upperDir).isEmptyDirectory();
  }

  @Test
  void defaultRootIsUnderTheUsersDataHome() {
    String data = System.getenv("XDG_DATA_HOME");
    Path expected = data != null && !data.isEmpty() ? Path.of(data, "berth")
        : Path.of(System.getenv("HOME"), ".local", "share", "berth");
    assertThat(ImageStore.defaultRoot()).isEqualTo(expected);
  }

  @Test
  void storeUnderTheUsersHomeWorksAndAStoreOthersMayWriteIsRefused() throws Exception {
    Path home = Path.of(System.getenv("HOME"));
    // as $XDG_DATA_HOME/berth would be, in a directory of its own that the test removes
    Path data = home.resolve(".berth-it-" + dev.berth.image.internal.Files2.randomId()).resolve("data");
    Path root = data.resolve("berth");
    try {
      byte[] lo = lower();
      try (ImageStore store = ImageStore.open(root)) {
        store.importImage(layout("home", lo), Optional.of("home:1"), null);
        Path l1 = store.layerDir(Digest.sha256Of(lo));
        assertThat(l1).startsWith(home);
        assertThat(LayerOwners.read(l1)).hasSize(3);
        assertThat(lstat(l1.resolve("www/index.html")).uid()).isEqualTo(uid);
      }
      assertThat(Files.getPosixFilePermissions(root)).isEqualTo(java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
      Files.setPosixFilePermissions(root, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwx---"));
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> ImageStore.open(root).close())
          .hasMessageContaining("image store " + root + ": mode 770 lets other users write it");
    } finally {
      dev.berth.image.internal.Files2.deleteTree(data.getParent());
    }
  }

  @Test
  void concurrentImportsOfOneImage() throws Exception {
    byte[] lo = lower();
    byte[] up = upper();
    Path layout = layout("same", lo, up);
    try (ImageStore a = ImageStore.open(tmp.resolve("a"));
        ImageStore shared = ImageStore.open(tmp.resolve("shared"));
        ImageStore sharedAgain = ImageStore.open(tmp.resolve("shared"))) {
      List<ImageStore> stores = List.of(a, shared, sharedAgain, shared);
      CyclicBarrier start = new CyclicBarrier(stores.size());
      ExecutorService pool = Executors.newFixedThreadPool(stores.size());
      try {
        List<Future<Image>> fs = new ArrayList<>();
        for (ImageStore s : stores) {
          fs.add(pool.submit((Callable<Image>) () -> {
            start.await();
            return s.importImage(layout, Optional.of("same:1"), null);
          }));
        }
        for (Future<Image> f : fs) {
          assertThat(f.get(120, TimeUnit.SECONDS).diffIds()).containsExactly(Digest.sha256Of(lo), Digest.sha256Of(up));
        }
      } finally {
        pool.shutdownNow();
      }
      for (ImageStore s : List.of(a, shared)) {
        Path l1 = s.layerDir(Digest.sha256Of(lo));
        assertThat(LayerOwners.read(l1)).hasSize(3);
        assertThat(Files.readString(l1.resolve("www/index.html"))).isEqualTo("hi");
        try (Stream<Path> names = Files.list(l1.getParent())) {
          assertThat(names.map(p -> p.getFileName().toString()))
              .as("no staging or temporary left").allMatch(n -> !n.startsWith("."));
        }
        try (PreparedImage p = s.prepare("same:1")) {
          assertThat(p.lowerDirs()).hasSize(2);
        }
      }
      assertThat(shared.stats().layersUnpacked() + sharedAgain.stats().layersUnpacked()).isLessThanOrEqualTo(2);
    }
  }

  @Test
  void pullFromALoopbackRegistryRunByTheUser() throws Exception {
    Preconditions.requireTool("skopeo", "skopeo");
    byte[] lo = lower();
    byte[] up = upper();
    Path layout = layout("pushed", lo, up);
    try (LoopbackRegistry registry = new LoopbackRegistry(tmp.resolve("registry"));
        ImageStore store = ImageStore.open(tmp.resolve("store"))) {
      registry.push(tmp, "oci:" + layout + ":pushed", "rootless/img:1");
      PullOptions options = PullOptions.builder()
          .authFiles(List.of())
          .certDirectories(List.of(registry.certDir))
          .credentials(registry.host(), new Credentials(LoopbackRegistry.USER, LoopbackRegistry.PASSWORD))
          .initialBackoff(Duration.ofMillis(20))
          .build();
      Image img = store.pull(registry.host() + "/rootless/img:1", options, null);
      assertThat(img.diffIds()).containsExactly(Digest.sha256Of(lo), Digest.sha256Of(up));
      Path l1 = store.layerDir(Digest.sha256Of(lo));
      assertThat(LayerOwners.read(l1)).contains(new LayerOwners.Entry("bin/suid-user", 1000, 1000, 04755));
      assertThat(lstat(l1.resolve("bin/suid-user")).uid()).isEqualTo(uid);
      assertThat(lstat(store.layerDir(Digest.sha256Of(up)).resolve("etc/gone")).isWhiteout()).isTrue();
      assertThat(store.remove(registry.host() + "/rootless/img:1")).isTrue();
      try (Stream<Path> s = Files.list(l1.getParent())) {
        assertThat(s).as("layers and their owners lists are gone").isEmpty();
      }
    }
  }
}
