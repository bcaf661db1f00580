package dev.berth.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.image.Fixtures.Layer;
import dev.berth.image.Fixtures.Tar;
import dev.berth.linux.internal.ProcStatus;
import dev.berth.testing.Preconditions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A store that unpacks rootless (the seam tells it so whoever runs the test): each layer's owners
 * list is written with the layer, only with it, survives collection while its layer lives and goes
 * with it; and the store refuses roots and areas other users own or may write.
 */
class RootlessStoreTest {
  @TempDir Path tmp;

  static byte[] ownedLayer(String marker) {
    byte[] x = marker.getBytes(StandardCharsets.UTF_8);
    TarArchiveEntry www = new TarArchiveEntry("www/", TarArchiveEntry.LF_DIR, true);
    www.setIds(33, 33);
    www.setMode(0750);
    TarArchiveEntry f = new TarArchiveEntry("www/" + marker, TarArchiveEntry.LF_NORMAL, true);
    f.setIds(1000, 1000);
    f.setMode(04755);
    f.setSize(x.length);
    return new Tar().entry(www, null).entry(f, x).file("root-owned", "r").bytes();
  }

  Path layout(String name, byte[]... tars) throws IOException {
    Path l = tmp.resolve("layout-" + name);
    Fixtures.writeLayout(l, name, Stream.of(tars).map(Layer::gzip).toList(), null);
    return l;
  }

  static List<String> listing(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void ownersListIsWrittenWithTheLayerKeptByCollectionAndRemovedWithIt() throws IOException {
    byte[] a = ownedLayer("a");
    byte[] b = ownedLayer("b");
    Digest da = Digest.sha256Of(a);
    Digest db = Digest.sha256Of(b);
    try (ImageStore store = ImageStore.open(tmp.resolve("store"), UnpackLimits.DEFAULTS, true)) {
      assertThat(store.rootless()).isTrue();
      store.importImage(layout("a", a), Optional.of("a:1"), null);
      store.importImage(layout("b", b), Optional.of("b:1"), null);
      Path la = store.layerDir(da);
      assertThat(LayerOwners.read(la)).containsExactly(
          new LayerOwners.Entry("www", 33, 33, 0750), new LayerOwners.Entry("www/a", 1000, 1000, 04755));
      assertThat(listing(la.getParent())).containsExactlyInAnyOrder(
          da.hex(), da.hex() + ".owners.json", db.hex(), db.hex() + ".owners.json");
      try (PreparedImage p = store.prepare("a:1")) {
        assertThat(p.lowerDirs()).containsExactly(la);
      }
      // collection after removing b keeps a's list (its name is no DiffID) and drops b's with b
      assertThat(store.remove("b:1")).isTrue();
      assertThat(listing(la.getParent())).containsExactlyInAnyOrder(da.hex(), da.hex() + ".owners.json");
      assertThat(LayerOwners.read(la)).hasSize(2);
      assertThat(store.remove("a:1")).isTrue();
      assertThat(listing(la.getParent())).isEmpty();
    }
  }

  @Test
  void failedUnpackLeavesNoListAndAnOrphanListIsCollected() throws IOException {
    byte[] x = {1};
    TarArchiveEntry owned = new TarArchiveEntry("f", TarArchiveEntry.LF_NORMAL, true);
    owned.setIds(33, 33);
    owned.setSize(1);
    TarArchiveEntry huge = new TarArchiveEntry("g", TarArchiveEntry.LF_NORMAL, true);
    huge.setUserId(3_000_000_000L);
    huge.setSize(1);
    byte[] bad = new Tar().entry(owned, x).entry(huge, x).bytes();
    byte[] good = ownedLayer("g");
    try (ImageStore store = ImageStore.open(tmp.resolve("store"), UnpackLimits.DEFAULTS, true)) {
      assertThatThrownBy(() -> store.importImage(layout("bad", bad), Optional.of("bad:1"), null))
          .isInstanceOf(UnsafeLayerException.class).hasMessageContaining("3000000000:0");
      Path layers = store.root().resolve("layers/sha256");
      assertThat(listing(layers)).as("no layer and no list after the failed unpack").isEmpty();
      // a list whose layer never became visible (a crash between the two) goes at the next collection
      Path orphan = layers.resolve(Digest.sha256Of(bad).hex() + ".owners.json");
      Files.writeString(orphan, "[]");
      store.importImage(layout("good", good), Optional.of("good:1"), null);
      store.importImage(layout("other", ownedLayer("o")), Optional.of("other:1"), null);
      store.remove("other:1");
      Digest dg = Digest.sha256Of(good);
      assertThat(listing(layers)).containsExactlyInAnyOrder(dg.hex(), dg.hex() + ".owners.json");
    }
  }

  @Test
  void rootfulStoreWritesNoList() throws IOException {
    Preconditions.require(ProcStatus.isRoot(), "a rootful unpack chowns");
    byte[] a = ownedLayer("a");
    try (ImageStore store = ImageStore.open(tmp.resolve("store"), UnpackLimits.DEFAULTS, false)) {
      assertThat(store.rootless()).isFalse();
      store.importImage(layout("a", a), Optional.of("a:1"), null);
      Path la = store.layerDir(Digest.sha256Of(a));
      assertThat(LayerOwners.fileFor(la)).doesNotExist();
      assertThat((Integer) Files.getAttribute(la.resolve("www/a"), "unix:uid")).isEqualTo(1000);
    }
  }

  @Test
  void rootOthersMayWriteIsRefused() throws IOException {
    Path root = Files.createDirectory(tmp.resolve("open"));
    for (String mode : List.of("rwxrwxr-x", "rwxr-xrwx", "rwxrwxrwx")) {
      Files.setPosixFilePermissions(root, PosixFilePermissions.fromString(mode));
      assertThatThrownBy(() -> ImageStore.open(root).close()).isInstanceOf(IOException.class)
          .hasMessageContaining("image store " + root).hasMessageContaining("lets other users write it")
          .hasMessageContaining("chmod go-w");
    }
    Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-x--x"));
    ImageStore.open(root).close();
  }

  @Test
  void rootOrAreaOwnedByAnotherUserIsRefused() throws IOException {
    Preconditions.require(ProcStatus.isRoot(), "giving a directory to another user needs root");
    Path root = Files.createDirectory(tmp.resolve("theirs"));
    Files.setAttribute(root, "unix:uid", 65534);
    assertThatThrownBy(() -> ImageStore.open(root).close()).isInstanceOf(IOException.class)
        .hasMessageContaining("image store " + root + ": owned by uid 65534, not by uid 0");
    Files.setAttribute(root, "unix:uid", 0);
    ImageStore.open(root).close();
    Files.setAttribute(root.resolve("layers"), "unix:uid", 65534);
    assertThatThrownBy(() -> ImageStore.open(root).close()).isInstanceOf(IOException.class)
        .hasMessageContaining("image store area " + root.resolve("layers") + ": owned by uid 65534");
  }

  @Test
  void defaultRoot() {
    assertThat(ImageStore.defaultRoot(true, Map.of("XDG_DATA_HOME", "/x"))).isEqualTo(Path.of("/var/lib/berth"));
    assertThat(ImageStore.defaultRoot(false, Map.of("XDG_DATA_HOME", "/x/data", "HOME", "/home/u")))
        .isEqualTo(Path.of("/x/data/berth"));
    assertThat(ImageStore.defaultRoot(false, Map.of("XDG_DATA_HOME", "", "HOME", "/home/u")))
        .isEqualTo(Path.of("/home/u/.local/share/berth"));
    assertThat(ImageStore.defaultRoot(false, Map.of("HOME", "/home/u"))).isEqualTo(Path.of("/home/u/.local/share/berth"));
    assertThatThrownBy(() -> ImageStore.defaultRoot(false, Map.of("XDG_DATA_HOME", "rel", "HOME", "/home/u")))
        .hasMessageContaining("XDG_DATA_HOME=rel is not an absolute path");
  }
}
