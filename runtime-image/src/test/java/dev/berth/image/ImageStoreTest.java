package dev.berth.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.image.Fixtures.Layer;
import dev.berth.image.Fixtures.Tar;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageStoreTest {
  @TempDir Path tmp;
  Path storeRoot;
  ImageStore store;

  static final byte[] BASE = new Tar().dir("etc").file("etc/hostname", "base").dir("bin").file("bin/sh", "#!", 0755).bytes();
  static final byte[] MID = new Tar().dir("etc").file("etc/mid", "mid").bytes();
  static final byte[] TOP = new Tar().dir("app").file("app/run", "top").bytes();

  @BeforeEach
  void open() throws IOException {
    storeRoot = tmp.resolve("store");
    store = ImageStore.open(storeRoot);
  }

  @AfterEach
  void close() {
    store.close();
  }

  Path layout(String name, String tag, List<Layer> layers) throws IOException {
    Path l = tmp.resolve(name);
    Fixtures.writeLayout(l, tag, layers, null);
    return l;
  }

  List<Layer> three() {
    return List.of(Layer.gzip(BASE), Layer.zstd(MID), Layer.plain(TOP));
  }

  long count(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return 0;
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.count();
    }
  }

  @Test
  void importLayoutAndPrepare() throws IOException {
    Image img = store.importImage(layout("lay", "v1", three()), Optional.of("example.com/app:v1"), ImportProgress.NONE);
    assertThat(img.name()).isEqualTo("example.com/app:v1");
    assertThat(img.diffIds()).containsExactly(Digest.sha256Of(BASE), Digest.sha256Of(MID), Digest.sha256Of(TOP));
    assertThat(img.config().config().entrypoint()).contains(List.of("/bin/sh"));
    assertThat(store.images()).extracting(Image::name).containsExactly("example.com/app:v1");
    try (PreparedImage p = store.prepare("example.com/app:v1")) {
      assertThat(p.lowerDirs()).hasSize(3);
      assertThat(p.lowerDirs().get(0).resolve("app/run")).hasContent("top");
      assertThat(p.lowerDirs().get(1).resolve("etc/mid")).hasContent("mid");
      assertThat(p.lowerDirs().get(2).resolve("etc/hostname")).hasContent("base");
      for (int i = 0; i < 3; i++) {
        assertThat(p.shortLowerDirs().get(i)).hasSize(26);
        assertThat(p.linkDir().resolve(p.shortLowerDirs().get(i)).toRealPath()).isEqualTo(p.lowerDirs().get(i).toRealPath());
      }
      assertThat(p.config().config().workingDir()).isEqualTo("/w");
    }
    assertThat(store.stats().layersUnpacked()).isEqualTo(3);
    try (PreparedImage p = store.prepare("example.com/app:v1")) {
      assertThat(store.stats().layersUnpacked()).as("second prepare is warm").isEqualTo(3);
    }
    assertThat(count(storeRoot.resolve("tmp"))).isZero();
  }

  @Test
  void nameDefaultsFromRefAnnotation() throws IOException {
    Path l = tmp.resolve("lay2");
    Fixtures.writeLayout(l, "registry.example/ns/app:2.0", three(), null);
    assertThat(store.importImage(l, Optional.empty(), null).name()).isEqualTo("registry.example/ns/app:2.0");
    Image short_ = store.importImage(layout("myimage", "1.5", three()), Optional.empty(), null);
    assertThat(short_.name()).isEqualTo("myimage:1.5");
    assertThatThrownBy(() -> store.importImage(l, Optional.of("Bad Name"), null))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Bad Name");
  }

  @Test
  void wrongBlobDigestLeavesNothing() throws IOException {
    Path l = layout("bad", "t", three());
    Layer gz = three().get(0);
    Digest d = Digest.sha256Of(gz.blob());
    byte[] tampered = gz.blob().clone();
    tampered[tampered.length / 2] ^= 1;
    Files.write(l.resolve("blobs/sha256/" + d.hex()), tampered);
    assertThatThrownBy(() -> store.importImage(l, Optional.of("bad:t"), null))
        .isInstanceOf(BlobVerificationException.class)
        .hasMessageContaining(d.toString())
        .hasMessageContaining("size " + tampered.length);
    assertThat(Files.exists(storeRoot.resolve("blobs/sha256/" + d.hex()))).isFalse();
    assertThat(store.images()).isEmpty();
    assertThat(count(storeRoot.resolve("tmp"))).isZero();
  }

  @Test
  void wrongBlobSizeFailsAfterDraining() throws IOException {
    Path l = layout("short", "t", three());
    Layer gz = three().get(0);
    Digest d = Digest.sha256Of(gz.blob());
    byte[] longer = java.util.Arrays.copyOf(gz.blob(), gz.blob().length + 100);
    Files.write(l.resolve("blobs/sha256/" + d.hex()), longer);
    assertThatThrownBy(() -> store.importImage(l, Optional.of("short:t"), null))
        .isInstanceOf(BlobVerificationException.class)
        .hasMessageContaining(d.toString())
        .hasMessageContaining("size " + longer.length);
    assertThat(Files.exists(storeRoot.resolve("blobs/sha256/" + d.hex()))).isFalse();
    assertThat(count(storeRoot.resolve("tmp"))).isZero();
  }

  @Test
  void missingBlobNamed() throws IOException {
    Path l = layout("missing", "t", three());
    Digest d = Digest.sha256Of(three().get(1).blob());
    Files.delete(l.resolve("blobs/sha256/" + d.hex()));
    assertThatThrownBy(() -> store.importImage(l, Optional.of("m:t"), null))
        .isInstanceOf(ImageException.class).hasMessageContaining(d.toString()).hasMessageContaining("missing");
  }

  @Test
  void unknownLayerMediaTypeNamed() throws IOException {
    Path l = tmp.resolve("unknown");
    Fixtures.writeLayout(l, "t", List.of(new Layer(BASE, "application/x-weird", BASE)), null);
    assertThatThrownBy(() -> store.importImage(l, Optional.of("u:t"), null))
        .isInstanceOf(ImageException.class).hasMessageContaining("application/x-weird").hasMessageContaining("sha256:");
  }

  @Test
  void wrongDiffIdDiscardsStaging() throws IOException {
    Path l = tmp.resolve("diff");
    String cfg = "{\"architecture\":\"" + Platform.host().architecture() + "\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\""
        + Digest.sha256Of("not the tar") + "\"]}}";
    Fixtures.writeLayout(l, "t", List.of(Layer.gzip(BASE)), cfg);
    assertThatThrownBy(() -> store.importImage(l, Optional.of("diff:t"), null))
        .isInstanceOf(BlobVerificationException.class)
        .hasMessageContaining("wrong DiffID")
        .hasMessageContaining(Digest.sha256Of("not the tar").toString());
    assertThat(store.images()).isEmpty();
    assertThat(count(storeRoot.resolve("layers/sha256"))).isZero();
    assertThat(count(storeRoot.resolve("blobs/sha256"))).as("a failed import leaves no blob").isZero();
    assertThat(count(storeRoot.resolve("tmp"))).isZero();
    try (Stream<Path> s = Files.list(storeRoot.resolve("layers"))) {
      assertThat(s.map(p -> p.getFileName().toString())).containsExactly("sha256");
    }
  }

  @Test
  void tooManyLayersRefused() throws IOException {
    List<Layer> many = new ArrayList<>();
    for (int i = 0; i < 129; i++) {
      many.add(Layer.plain(new Tar().file("f" + i, "x").bytes()));
    }
    Path l = layout("many", "t", many);
    assertThatThrownBy(() -> store.importImage(l, Optional.of("many:t"), null))
        .isInstanceOf(LimitExceededException.class).hasMessageContaining("129 layers");
    assertThat(store.images()).isEmpty();
  }

  @Test
  void importUnpacksSoPrepareIsWarm() throws IOException {
    store.importImage(layout("w", "t", three()), Optional.of("w:t"), null);
    assertThat(store.stats().layersUnpacked()).isEqualTo(3);
    assertThat(count(storeRoot.resolve("blobs/sha256"))).as("3 layers, config, manifest").isEqualTo(5);
    store.prepare("w:t").close();
    assertThat(store.stats().layersUnpacked()).isEqualTo(3);
  }

  @Test
  void concurrentImportsUnpackEachLayerOnce() throws Exception {
    Path c = layout("c", "t", three());
    // shares BASE and TOP by DiffID, but compresses TOP differently (another blob)
    Path c2 = layout("c2", "t", List.of(Layer.gzip(BASE), Layer.gzip(TOP)));
    ExecutorService ex = Executors.newFixedThreadPool(4);
    CountDownLatch go = new CountDownLatch(1);
    List<Future<Image>> fs = new ArrayList<>();
    for (String ref : List.of("c:t", "c:u", "c2:t", "c2:u")) {
      Path src = ref.startsWith("c2") ? c2 : c;
      fs.add(ex.submit(() -> {
        go.await();
        return store.importImage(src, Optional.of(ref), null);
      }));
    }
    go.countDown();
    for (Future<Image> f : fs) {
      f.get();
    }
    ex.shutdown();
    assertThat(store.stats().layersUnpacked()).isEqualTo(3);
    assertThat(count(storeRoot.resolve("blobs/sha256"))).as("4 layer blobs, 2 configs, 2 manifests").isEqualTo(8);
    try (PreparedImage p = store.prepare("c2:u")) {
      assertThat(p.lowerDirs().get(0).resolve("app/run")).hasContent("top");
    }
  }

  @Test
  void concurrentPreparesRepairALostLayerOnce() throws Exception {
    store.importImage(layout("c", "t", three()), Optional.of("c:t"), null);
    Path mid = store.layerDir(Digest.sha256Of(MID));
    dev.berth.image.internal.Files2.deleteTree(mid);
    ExecutorService ex = Executors.newFixedThreadPool(4);
    CountDownLatch go = new CountDownLatch(1);
    List<Future<PreparedImage>> fs = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      fs.add(ex.submit(() -> {
        go.await();
        return store.prepare("c:t");
      }));
    }
    go.countDown();
    for (Future<PreparedImage> f : fs) {
      f.get().close();
    }
    ex.shutdown();
    assertThat(store.stats().layersUnpacked()).as("3 by the import, 1 repair").isEqualTo(4);
    assertThat(mid.resolve("etc/mid")).hasContent("mid");
  }

  @Test
  void syncLeavesNoPendingCommits() throws IOException {
    store.importImage(layout("s", "t", three()), Optional.of("s:t"), null);
    store.sync();
    assertThat(count(storeRoot.resolve("pending"))).isZero();
  }

  @Test
  void reopenAfterPowerLossUndoesUnsyncedCommits() throws IOException {
    store.importImage(layout("old", "t", List.of(Layer.gzip(BASE))), Optional.of("app:1"), null);
    Digest oldManifest = store.find("app:1").orElseThrow().manifestDigest();
    store.importImage(layout("new", "t", three()), Optional.of("app:1"), null);
    store.close();
    // what a power loss before the background syncfs leaves: intents of an earlier boot
    Digest top = Digest.sha256Of(TOP);
    Files.writeString(storeRoot.resolve("pending/0001.intent"), "boot 00000000-dead-beef-0000-000000000000\n"
        + "remove layers/sha256/" + top.hex() + "\n"
        + "remove l/" + ImageStore.shortId(top) + "\n"
        + "restore refs/app%3A1 " + oldManifest + "\n"
        + "remove ../outside\nend\n");
    Files.writeString(tmp.resolve("outside"), "host file");
    store = ImageStore.open(storeRoot);
    assertThat(store.layerDir(top)).doesNotExist();
    assertThat(storeRoot.resolve("l/" + ImageStore.shortId(top))).doesNotExist();
    assertThat(store.find("app:1").orElseThrow().manifestDigest()).as("the replaced ref is back").isEqualTo(oldManifest);
    assertThat(store.layerDir(Digest.sha256Of(BASE))).as("durable layers stay").isDirectory();
    assertThat(tmp.resolve("outside")).hasContent("host file");
    assertThat(count(storeRoot.resolve("pending"))).isZero();
  }

  @Test
  void reopenAfterProcessCrashKeepsCommits() throws IOException {
    store.importImage(layout("k", "t", three()), Optional.of("k:1"), null);
    store.close();
    Digest top = Digest.sha256Of(TOP);
    String boot = Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).trim();
    Files.writeString(storeRoot.resolve("pending/0001.intent"),
        "boot " + boot + "\nremove layers/sha256/" + top.hex() + "\nend\n");
    store = ImageStore.open(storeRoot);
    assertThat(store.layerDir(top).resolve("app/run")).as("same boot: page cache intact, synced and kept").hasContent("top");
    assertThat(count(storeRoot.resolve("pending"))).isZero();
  }

  @Test
  void aPinKeepsTheImageItWasMadeFromWhenItsNameMovesAndPreparesItAgain() throws IOException {
    store.importImage(layout("a", "t", three()), Optional.of("app:1"), null);
    PreparedImage first = store.prepare("app:1");
    Digest firstManifest = first.image().manifestDigest();
    List<Path> firstLower = first.lowerDirs();
    store.pin("ctr-1", first);
    first.close();
    // the name moves to another image (a new build imported or pulled), then that one is removed too: the
    // collector runs with the first image named by nothing but the pin
    store.importImage(layout("b", "t", List.of(Layer.gzip(BASE))), Optional.of("app:1"), null);
    assertThat(store.find("app:1").orElseThrow().manifestDigest()).isNotEqualTo(firstManifest);
    assertThat(store.remove("app:1")).isTrue();
    assertThat(store.find("app:1")).isEmpty();
    try (PreparedImage again = store.preparePinned("ctr-1", "app:1").orElseThrow()) {
      assertThat(again.image().manifestDigest()).isEqualTo(firstManifest);
      assertThat(again.image().name()).isEqualTo("app:1");
      assertThat(again.image().diffIds()).containsExactly(Digest.sha256Of(BASE), Digest.sha256Of(MID),
          Digest.sha256Of(TOP));
      assertThat(again.lowerDirs()).isEqualTo(firstLower);
      assertThat(again.lowerDirs().get(0).resolve("app/run")).hasContent("top");
    }
    assertThat(store.preparePinned("ctr-2", "app:1")).as("no pin").isEmpty();
    assertThatThrownBy(() -> store.preparePinned("../ctr-1", "app:1")).isInstanceOf(IllegalArgumentException.class);
    store.unpin("ctr-1");
    assertThat(count(storeRoot.resolve("blobs/sha256"))).as("manifest and config go with the pin").isZero();
    assertThat(firstLower).allSatisfy(d -> assertThat(d).doesNotExist());
  }

  @Test
  void aPinWrittenBeforePinsNamedTheirImageStillKeepsItsLayers() throws IOException {
    store.importImage(layout("a", "t", three()), Optional.of("app:1"), null);
    List<Path> lower;
    try (PreparedImage p = store.prepare("app:1")) {
      lower = p.lowerDirs();
    }
    StringBuilder legacy = new StringBuilder();
    for (Digest d : List.of(Digest.sha256Of(BASE), Digest.sha256Of(MID), Digest.sha256Of(TOP))) {
      legacy.append(d).append('\n');
    }
    Files.writeString(storeRoot.resolve("pins/old-ctr"), legacy);
    assertThat(store.remove("app:1")).isTrue();
    assertThat(lower).allSatisfy(d -> assertThat(d).isDirectory());
    assertThat(store.preparePinned("old-ctr", "app:1")).as("the restart falls back to the name").isEmpty();
    store.unpin("old-ctr");
    assertThat(lower).allSatisfy(d -> assertThat(d).doesNotExist());
  }

  @Test
  void removeKeepsSharedAndPinnedLayers() throws IOException {
    store.importImage(layout("a", "t", three()), Optional.of("a:t"), null);
    store.importImage(layout("b", "t", List.of(Layer.gzip(BASE))), Optional.of("b:t"), null);
    Path top = store.layerDir(Digest.sha256Of(TOP));
    Path base = store.layerDir(Digest.sha256Of(BASE));
    PreparedImage pa = store.prepare("a:t");
    store.prepare("b:t").close();
    assertThat(store.remove("a:t")).isTrue();
    assertThat(top).as("pinned by an open PreparedImage").isDirectory();
    store.pin("container-1", pa);
    pa.close();
    store.remove("b:t");
    assertThat(top).as("pinned persistently").isDirectory();
    assertThat(base).isDirectory();
    store.unpin("container-1");
    assertThat(top).doesNotExist();
    assertThat(base).doesNotExist();
    assertThat(count(storeRoot.resolve("blobs/sha256"))).isZero();
    assertThat(count(storeRoot.resolve("l"))).isZero();
    assertThat(store.remove("a:t")).isFalse();
  }

  @Test
  void filesBesideALayerStayWhileItLivesAndGoWithIt() throws IOException {
    store.importImage(layout("a", "t", three()), Optional.of("a:t"), null);
    store.importImage(layout("b", "t", List.of(Layer.gzip(BASE))), Optional.of("b:t"), null);
    Path top = store.layerDir(Digest.sha256Of(TOP));
    LayerOwners.write(top, List.of(new LayerOwners.Entry("etc/x", 33, 33, 0640)));
    Path marker = top.resolveSibling(top.getFileName() + ".owners-applied");
    Files.writeString(marker, "uid 0:1000:1 gid 0:1000:1\n");
    Path stray = top.resolveSibling("not-a-digest.owners.json");
    Files.writeString(stray, "[]");
    store.remove("b:t"); // a collection: a's layers live on, their owners list and marker with them
    assertThat(LayerOwners.read(top)).hasSize(1);
    assertThat(marker).exists();
    assertThat(stray).as("beside no layer").doesNotExist();
    store.remove("a:t");
    assertThat(top).doesNotExist();
    assertThat(LayerOwners.fileFor(top)).doesNotExist();
    assertThat(marker).doesNotExist();
  }

  @Test
  void removeOneOfTwoSharingImages() throws IOException {
    store.importImage(layout("a", "t", three()), Optional.of("a:t"), null);
    store.importImage(layout("b", "t", List.of(Layer.gzip(BASE))), Optional.of("b:t"), null);
    store.prepare("a:t").close();
    store.remove("a:t");
    assertThat(store.layerDir(Digest.sha256Of(BASE))).isDirectory();
    assertThat(store.layerDir(Digest.sha256Of(TOP))).doesNotExist();
    assertThat(store.images()).extracting(Image::name).containsExactly("b:t");
    try (PreparedImage p = store.prepare("b:t")) {
      assertThat(p.lowerDirs().get(0).resolve("etc/hostname")).hasContent("base");
    }
  }

  static void tarDir(Path dir, Path out) throws IOException {
    try (OutputStream o = Files.newOutputStream(out);
        TarArchiveOutputStream t = new TarArchiveOutputStream(o)) {
      t.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
      try (Stream<Path> s = Files.walk(dir)) {
        for (Path p : s.sorted().toList()) {
          if (p.equals(dir)) {
            continue;
          }
          TarArchiveEntry e = new TarArchiveEntry(p.toFile(), dir.relativize(p).toString());
          t.putArchiveEntry(e);
          if (Files.isRegularFile(p)) {
            Files.copy(p, t);
          }
          t.closeArchiveEntry();
        }
      }
    }
  }

  @Test
  void importOciArchive() throws IOException {
    Path l = layout("arch", "v2", three());
    Path tar = tmp.resolve("arch.tar");
    tarDir(l, tar);
    Image img = store.importImage(tar, Optional.empty(), null);
    assertThat(img.name()).isEqualTo("arch:v2");
    try (PreparedImage p = store.prepare("arch:v2")) {
      assertThat(p.lowerDirs().get(0).resolve("app/run")).hasContent("top");
    }
    assertThat(count(storeRoot.resolve("tmp"))).isZero();
  }

  @Test
  void tamperedBlobInOciArchiveRefused() throws IOException {
    Path l = layout("tam", "v1", three());
    Digest d = Digest.sha256Of(three().get(2).blob());
    Files.write(l.resolve("blobs/sha256/" + d.hex()), new Tar().file("evil", "x").bytes());
    Path tar = tmp.resolve("tam.tar");
    tarDir(l, tar);
    assertThatThrownBy(() -> store.importImage(tar, Optional.empty(), null))
        .isInstanceOf(BlobVerificationException.class).hasMessageContaining(d.toString());
    assertThat(Files.exists(storeRoot.resolve("blobs/sha256/" + d.hex()))).isFalse();
    assertThat(store.images()).isEmpty();
    assertThat(count(storeRoot.resolve("tmp"))).isZero();
  }

  @Test
  void importDockerArchive() throws IOException {
    Path d = tmp.resolve("docker");
    Files.createDirectories(d.resolve("aaa"));
    Files.createDirectories(d.resolve("bbb"));
    Files.write(d.resolve("aaa/layer.tar"), BASE);
    Files.write(d.resolve("bbb/layer.tar"), Fixtures.gzip(TOP));
    String cfg = "{\"architecture\":\"" + Platform.host().architecture() + "\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"sh\"]},"
        + "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" + Digest.sha256Of(BASE) + "\",\"" + Digest.sha256Of(TOP) + "\"]}}";
    Files.writeString(d.resolve("cfg.json"), cfg);
    Files.writeString(d.resolve("manifest.json"),
        "[{\"Config\":\"cfg.json\",\"RepoTags\":[\"docker.io/library/dk:1\"],\"Layers\":[\"aaa/layer.tar\",\"bbb/layer.tar\"]}]");
    Path tar = tmp.resolve("dk.tar");
    tarDir(d, tar);
    Image img = store.importImage(tar, Optional.empty(), null);
    assertThat(img.name()).isEqualTo("docker.io/library/dk:1");
    assertThat(img.config().config().cmd()).contains(List.of("sh"));
    try (PreparedImage p = store.prepare("docker.io/library/dk:1")) {
      assertThat(p.lowerDirs().get(0).resolve("app/run")).hasContent("top");
      assertThat(p.lowerDirs().get(1).resolve("etc/hostname")).hasContent("base");
    }
  }

  @Test
  void multiPlatformIndexPicksHost() throws IOException {
    Path l = tmp.resolve("multi");
    Digest hostManifest = Fixtures.writeLayout(l, "x", three(), null);
    long hostSize = Files.size(l.resolve("blobs/sha256/" + hostManifest.hex()));
    // a foreign-arch manifest that points at a missing config: choosing it would fail
    String other = Platform.host().architecture().equals("amd64") ? "arm64" : "amd64";
    String foreign = "{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"config\":{\"mediaType\":\""
        + MediaTypes.OCI_CONFIG + "\",\"digest\":\"" + Digest.sha256Of("nope") + "\",\"size\":4},\"layers\":[]}";
    Digest fd = Fixtures.blob(l, foreign.getBytes(StandardCharsets.UTF_8));
    String idx = "{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_INDEX + "\",\"manifests\":["
        + "{\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"digest\":\"" + fd + "\",\"size\":" + foreign.length()
        + ",\"platform\":{\"os\":\"linux\",\"architecture\":\"" + other + "\"}},"
        + "{\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"digest\":\"" + hostManifest + "\",\"size\":" + hostSize
        + ",\"platform\":{\"os\":\"linux\",\"architecture\":\"" + Platform.host().architecture() + "\"}}]}";
    Digest id = Fixtures.blob(l, idx.getBytes(StandardCharsets.UTF_8));
    Files.writeString(l.resolve("index.json"), "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" + MediaTypes.OCI_INDEX
        + "\",\"digest\":\"" + id + "\",\"size\":" + idx.length() + ",\"annotations\":{\"org.opencontainers.image.ref.name\":\"multi:1\"}}]}");
    Image img = store.importImage(l, Optional.empty(), null);
    assertThat(img.name()).isEqualTo("multi:1");
    assertThat(img.manifestDigest()).isEqualTo(hostManifest);
  }

  @Test
  void progressReported() throws IOException {
    List<String> events = java.util.Collections.synchronizedList(new ArrayList<>());
    ImportProgress p = new ImportProgress() {
      @Override
      public void blobDone(Descriptor blob) {
        events.add("blob " + blob.digest());
      }

      @Override
      public void layerUnpacked(Digest diffId, long bytesWritten) {
        events.add("layer " + diffId);
      }
    };
    store.importImage(layout("p", "t", three()), Optional.of("p:t"), p);
    store.prepare("p:t", p).close();
    assertThat(events).hasSize(6);
  }

  @Test
  void shortLowerdirFor128LayersFitsInAPage() {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 128; i++) {
      ids.add(ImageStore.shortId(Digest.sha256Of("layer " + i)));
    }
    assertThat(ids).allMatch(id -> id.matches("[A-Z2-7]{26}"));
    assertThat(new java.util.HashSet<>(ids)).hasSize(128);
    assertThat(String.join(":", ids).length()).isLessThanOrEqualTo(4096 - 512);
  }

  @Test
  void findPinAndNameValidation() throws IOException {
    assertThat(store.find("nothing:here")).isEmpty();
    store.importImage(layout("f", "t", List.of(Layer.gzip(BASE))), Optional.of("f"), null);
    assertThat(store.find("f:latest")).isPresent();
    assertThat(store.find("f")).isPresent();
    try (PreparedImage p = store.prepare("f")) {
      assertThatThrownBy(() -> store.pin("../escape", p)).isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> store.pin("", p)).isInstanceOf(IllegalArgumentException.class);
    }
    assertThatThrownBy(() -> store.prepare("absent:1")).isInstanceOf(ImageException.class).hasMessageContaining("absent:1");
  }

  @Test
  void twoStoresOnOneRootShareLocksAndLeases() throws IOException {
    store.importImage(layout("two", "t", three()), Optional.of("two:t"), null);
    try (ImageStore other = ImageStore.open(storeRoot)) {
      PreparedImage p = other.prepare("two:t");
      assertThat(store.remove("two:t")).isTrue();
      assertThat(p.lowerDirs()).allMatch(Files::isDirectory);
      p.close();
      assertThat(other.images()).isEmpty();
    }
    // the first store still works after the second closed
    store.importImage(layout("two2", "t", List.of(Layer.gzip(BASE))), Optional.of("two:t"), null);
    store.prepare("two:t").close();
    store.remove("two:t");
    assertThat(count(storeRoot.resolve("layers/sha256"))).isZero();
  }

  @Test
  void interruptedCallersLeaveTheStoreWorking() throws Exception {
    store.importImage(layout("i", "t", List.of(Layer.gzip(BASE))), Optional.of("i:t"), null);
    store.sync(); // so remove() has no syncfs to wait for: an interrupted wait ends with InterruptedIOException
    // an interrupt pending when the store lock is taken, shared (find, images) and exclusive (remove)
    assertThat(InterruptProbe.withInterruptPending(() -> {
      assertThat(store.find("i:t")).isPresent();
      assertThat(store.images()).hasSize(1);
      assertThat(store.remove("absent:1")).isFalse();
    })).as("interrupt flag kept").isTrue();
    // an interrupt arriving while the caller waits for the lock another process holds
    assertThat(InterruptProbe.interruptedWhileWaiting(storeRoot.resolve("store.lock"), () -> store.images()))
        .as("interrupt flag kept").isTrue();
    // the store works for everyone else: import, list, prepare, remove
    store.importImage(layout("j", "t", List.of(Layer.zstd(MID))), Optional.of("j:t"), null);
    assertThat(store.images()).extracting(Image::name).containsExactly("i:t", "j:t");
    store.prepare("j:t").close();
    assertThat(store.remove("i:t")).isTrue();
  }

  @Test
  void aFailedImportLeavesNoUnpackForTheNextImportToJoin() throws Exception {
    // two blobs claiming one DiffID: the first decompresses to other bytes, the second is right
    Layer wrong = new Layer(Fixtures.gzip(MID), MediaTypes.OCI_LAYER_GZIP, BASE);
    Path bad = layout("bad", "t", List.of(wrong));
    Path good = layout("good", "t", List.of(Layer.gzip(BASE)));
    // An unpack whose outcome is out while it is still registered can be joined by the next import
    // of its DiffID. A worker descheduled at that point (the ZstdNativeMemoryIT child under load)
    // is stood for by holding, until the end of the test, every unpack found settled there.
    List<Digest> settledWhileJoinable = new CopyOnWriteArrayList<>();
    CountDownLatch release = new CountDownLatch(1);
    store.layerCache().beforeDeregistering = (diffId, unpack) -> {
      if (unpack.isDone()) {
        settledWhileJoinable.add(diffId);
        awaitQuietly(release);
      }
    };
    try {
      assertThatThrownBy(() -> store.importImage(bad, Optional.of("bad:t"), null))
          .isInstanceOf(BlobVerificationException.class)
          .hasMessageContaining("wrong DiffID")
          .hasMessageContaining(Digest.sha256Of(wrong.blob()).toString());
      // before the fix: "layer <the bad blob>: wrong DiffID", the failed unpack joined
      Image img = store.importImage(good, Optional.of("good:t"), null);
      assertThat(img.diffIds()).containsExactly(Digest.sha256Of(BASE));
    } finally {
      release.countDown();
    }
    assertThat(settledWhileJoinable).as("unpacks whose outcome was out while they could still be joined").isEmpty();
    assertThat(store.layerDir(Digest.sha256Of(BASE)).resolve("etc/hostname")).hasContent("base");
    assertThat(storeRoot.resolve("blobs/sha256/" + Digest.sha256Of(wrong.blob()).hex())).doesNotExist();
    assertThat(store.images()).extracting(Image::name).containsExactly("good:t");
  }

  @Test
  void anInterruptedImportLetsItsLayerSettleBeforeItCleansUp() throws Exception {
    Path src = layout("slow", "t", List.of(Layer.gzip(BASE)));
    CountDownLatch reading = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch committed = new CountDownLatch(1);
    ImportProgress holdTheLayer = new ImportProgress() {
      @Override
      public void blobProgress(Descriptor blob, long bytes) {
        reading.countDown();
        awaitQuietly(release); // the layer stays in flight until the test lets it go on
      }

      @Override
      public void blobDone(Descriptor blob) {
        committed.countDown(); // the layer and its blob were renamed into the store
      }
    };
    AtomicReference<Throwable> thrown = new AtomicReference<>();
    AtomicBoolean flagKept = new AtomicBoolean();
    Thread importer = new Thread(() -> {
      try {
        store.importImage(src, Optional.of("slow:t"), holdTheLayer);
      } catch (Throwable e) {
        thrown.set(e);
        flagKept.set(Thread.currentThread().isInterrupted());
      }
    }, "interrupted-import");
    importer.start();
    assertThat(reading.await(30, TimeUnit.SECONDS)).isTrue();
    importer.interrupt();
    // Either the import gives up and returns, its layer still in flight, or it takes the interrupt
    // and goes on waiting: parked with its flag cleared (one that gives up sets the flag again).
    awaitUntil(() -> !importer.isAlive() || (importer.getState() == Thread.State.WAITING && !importer.isInterrupted()));
    boolean returnedFirst = !importer.isAlive();
    release.countDown();
    importer.join(30_000);
    assertThat(committed.await(30, TimeUnit.SECONDS)).isTrue();
    // nothing of it was committed after its cleanup (before the fix: a layer and a blob without a ref)
    assertThat(store.images()).isEmpty();
    assertThat(count(storeRoot.resolve("layers/sha256"))).isZero();
    assertThat(count(storeRoot.resolve("blobs/sha256"))).isZero();
    assertThat(count(storeRoot.resolve("l"))).isZero();
    assertThat(count(storeRoot.resolve("tmp"))).isZero();
    assertThat(returnedFirst).as("returned while its layer was in flight").isFalse();
    assertThat(thrown.get()).isInstanceOf(java.io.InterruptedIOException.class).hasMessageContaining("slow:t");
    assertThat(flagKept).as("interrupt flag kept").isTrue();
    store.importImage(src, Optional.of("slow:t"), null);
    assertThat(store.layerDir(Digest.sha256Of(BASE)).resolve("etc/hostname")).hasContent("base");
  }

  static void awaitQuietly(CountDownLatch latch) {
    try {
      latch.await(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static void awaitUntil(java.util.function.BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime()).as("condition reached within 30 s").isLessThan(deadline);
      Thread.sleep(5);
    }
  }

  long fdsOpenOn(Path file) throws IOException {
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      return fds.filter(fd -> {
        try {
          return Files.readSymbolicLink(fd).equals(file);
        } catch (IOException gone) {
          return false; // the fd of the listing itself, closed meanwhile
        }
      }).count();
    }
  }

  @Test
  void failedOpenLeavesNoFdOfTheLockFile() throws IOException {
    store.close();
    Path lockFile = storeRoot.resolve("store.lock");
    assertThat(fdsOpenOn(lockFile)).isZero();
    // an intent of an earlier boot whose undo cannot be done: the ref to restore is a directory
    Files.createDirectories(storeRoot.resolve("refs/x/occupied"));
    Files.writeString(storeRoot.resolve("pending/0001.intent"),
        "boot 00000000-dead-beef-0000-000000000000\nrestore refs/x sha256:old\nend\n");
    assertThatThrownBy(() -> ImageStore.open(storeRoot)).isInstanceOf(IOException.class);
    assertThat(fdsOpenOn(lockFile)).isZero();
    dev.berth.image.internal.Files2.deleteTree(storeRoot.resolve("refs/x"));
    Files.delete(storeRoot.resolve("pending/0001.intent"));
    store = ImageStore.open(storeRoot); // and the root is usable again in this JVM
  }

  @Test
  void unreadableArchiveLeavesNoFdOfIt() throws IOException {
    Path archive = tmp.resolve("broken.tar.gz");
    Files.write(archive, new byte[] {0x1f, (byte) 0x8b, 8}); // gzip magic, then the header ends
    assertThatThrownBy(() -> store.importImage(archive, Optional.of("broken:1"), null))
        .isInstanceOf(ImageException.class).hasMessageContaining(archive.toString()).hasMessageContaining("not a readable tar archive");
    assertThat(fdsOpenOn(archive)).isZero();
  }

  @Test
  void storeSurvivesReopen() throws IOException {
    store.importImage(layout("r", "t", three()), Optional.of("r:t"), null);
    store.prepare("r:t").close();
    Files.createDirectories(storeRoot.resolve("layers/.tmp-crashed/x"));
    store.close();
    store = ImageStore.open(storeRoot);
    assertThat(Files.exists(storeRoot.resolve("layers/.tmp-crashed"))).isFalse();
    try (PreparedImage p = store.prepare("r:t")) {
      assertThat(p.lowerDirs()).hasSize(3);
    }
    assertThat(store.stats().layersUnpacked()).isZero();
  }
}
