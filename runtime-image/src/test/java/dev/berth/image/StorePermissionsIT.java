package dev.berth.image;

import static dev.berth.image.HostTools.asNobody;
import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.linux.internal.ProcStatus;
import dev.berth.testing.Preconditions;
import dev.berth.image.Fixtures.Layer;
import dev.berth.image.Fixtures.Tar;
import dev.berth.image.HostTools.Outcome;
import dev.berth.image.internal.linux.LinuxFs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The store keeps other local users away from what images ship (the CVE-2021-41091 class): an
 * unpacked layer holds a setuid-root {@code id}, a world-writable file and a world-writable device
 * node, and user nobody (65534) can neither list the store nor run or open any of them, by the
 * layer path or the short link. The test's own directory is 0755, so the store's modes are the
 * only barrier; a control copy of the setuid binary next to the store shows nobody would get euid
 * 0 from it otherwise.
 */
class StorePermissionsIT {
  @TempDir Path tmp;
  static final List<String> AREAS = List.of("blobs", "blobs/sha256", "layers", "layers/sha256", "l", "refs", "pins", "tmp", "pending", "downloads");

  @BeforeEach
  void traversableParent() throws IOException {
    Preconditions.require(ProcStatus.isRoot(), "setuid-root files and device nodes are unpacked as root only");
    Preconditions.requireTool("setpriv", "util-linux");
    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  static byte[] hostileLayer() throws IOException {
    byte[] id = Files.readAllBytes(Path.of("/usr/bin/id"));
    TarArchiveEntry suid = new TarArchiveEntry("bin/suid-id", TarArchiveEntry.LF_NORMAL, true);
    suid.setMode(04755);
    suid.setSize(id.length);
    return new Tar().dir("bin").entry(suid, id).dir("etc").file("etc/world-writable", "w", 0666)
        .dir("dev").chardev("dev/null", 1, 3).bytes();
  }

  /** The permission bits, setuid/setgid/sticky included, in octal (Java's PosixFilePermission has no setuid). */
  static String mode(Path p) throws IOException {
    return Integer.toOctalString(LinuxFs.lstatat(LinuxFs.AT_FDCWD, p.toString()).mode() & 07777);
  }

  /** Imports the hostile image into a store at {@code root}; returns the layer's directory. */
  Path importHostile(Path root, String name) throws IOException {
    byte[] tar = hostileLayer();
    Path layout = tmp.resolve("layout-" + name);
    Fixtures.writeLayout(layout, "t", List.of(Layer.gzip(tar)), null);
    try (ImageStore store = ImageStore.open(root)) {
      store.importImage(layout, Optional.of(name + ":t"), ImportProgress.NONE);
      Path layer = store.layerDir(Digest.sha256Of(tar));
      assertThat(mode(layer.resolve("bin/suid-id"))).isEqualTo("4755");
      assertThat(mode(layer.resolve("etc/world-writable"))).isEqualTo("666");
      return layer;
    }
  }

  void assertNobodyLockedOut(Path root, Path layer) throws Exception {
    Path viaLink = root.resolve("l").resolve(ImageStore.shortId(Digest.sha256Of(hostileLayer())));
    for (Path dir : List.of(layer, layer.resolve("bin"), root.resolve("layers"), root.resolve("l"), root.resolve("blobs/sha256"))) {
      assertDenied(asNobody(tmp, "ls", dir.toString()), "list " + dir);
    }
    for (Path suid : List.of(layer.resolve("bin/suid-id"), viaLink.resolve("bin/suid-id"))) {
      Outcome run = asNobody(tmp, suid.toString());
      assertDenied(run, "execute " + suid);
      assertThat(run.output()).doesNotContain("euid=0");
    }
    for (Path writable : List.of(layer.resolve("etc/world-writable"), layer.resolve("dev/null"))) {
      assertDenied(asNobody(tmp, "sh", "-c", "echo x >> \"$0\"", writable.toString()), "write " + writable);
    }
  }

  static void assertDenied(Outcome o, String what) {
    assertThat(o.exit()).as(what + " as nobody: " + o.output()).isNotZero();
    assertThat(o.output()).as(what + " as nobody").contains("Permission denied");
  }

  @Test
  void storeCreatedByBerthIsPrivate() throws Exception {
    Path root = tmp.resolve("var/berth"); // Berth creates both levels
    Path layer = importHostile(root, "hostile");
    assertThat(mode(root)).isEqualTo("700");
    for (String a : AREAS) {
      assertThat(mode(root.resolve(a))).as(a).isEqualTo("700");
    }
    assertThat(mode(root.resolve("store.lock"))).isEqualTo("600");
    assertNobodyLockedOut(root, layer);

    // control: the same binary where nobody can reach it runs with euid 0, which is the threat
    Path control = tmp.resolve("suid-id");
    HostTools.run(tmp, "cp", "-p", layer.resolve("bin/suid-id").toString(), control.toString());
    assertThat(asNobody(tmp, control.toString()).output()).contains("uid=65534").contains("euid=0");
  }

  @Test
  void looserExistingAreasAreTightenedOnOpen() throws Exception {
    // a root and areas as an older version (umask 022) left them, and a readable lock file
    Path root = tmp.resolve("old");
    for (String a : AREAS) {
      Files.createDirectories(root.resolve(a));
    }
    Files.writeString(root.resolve("store.lock"), "");
    for (String a : AREAS) {
      Files.setPosixFilePermissions(root.resolve(a), PosixFilePermissions.fromString("rwxr-xr-x"));
    }
    Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.setPosixFilePermissions(root.resolve("store.lock"), PosixFilePermissions.fromString("rw-r--r--"));
    Path layer = importHostile(root, "old");
    assertThat(mode(root)).as("an existing root keeps its mode").isEqualTo("755");
    for (String a : AREAS) {
      assertThat(mode(root.resolve(a))).as(a).isEqualTo("700");
    }
    assertThat(mode(root.resolve("store.lock"))).isEqualTo("600");
    assertThat(asNobody(tmp, "ls", root.toString()).exit()).as("the root itself is open, as found").isZero();
    assertNobodyLockedOut(root, layer);
  }
}
