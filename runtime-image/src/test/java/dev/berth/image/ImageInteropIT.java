package dev.berth.image;

import static org.assertj.core.api.Assertions.assertThat;
import static dev.berth.image.HostTools.run;

import dev.berth.linux.internal.ProcStatus;
import dev.berth.testing.Preconditions;
import com.google.cloud.tools.jib.api.Containerizer;
import com.google.cloud.tools.jib.api.Jib;
import com.google.cloud.tools.jib.api.TarImage;
import com.google.cloud.tools.jib.api.buildplan.AbsoluteUnixPath;
import com.google.cloud.tools.jib.api.buildplan.ImageFormat;
import dev.berth.image.internal.linux.LinuxFs;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Images made by real producers: umoci builds a two-layer OCI layout (the second layer deletes a
 * file and replaces a directory's contents), skopeo converts it to oci-archive and docker-archive,
 * and jib-core builds an image tar. Each imports, and the merged view of its unpacked layers
 * (computed here as overlayfs would, honouring 0:0 whiteouts and opaque directories) shows the
 * deletions. Skips with a reason when umoci or skopeo is not installed.
 */
class ImageInteropIT {
  @TempDir Path tmp;
  ImageStore store;

  @BeforeEach
  void open() throws IOException {
    store = ImageStore.open(tmp.resolve("store"));
  }

  @AfterEach
  void close() {
    store.close();
  }

  /** Builds the umoci layout {@code L} tagged {@code t}; returns the work dir. */
  Path umociLayout() throws Exception {
    Preconditions.requireTool("umoci", "umoci");
    Path w = tmp.resolve("work");
    Files.createDirectories(w);
    run(w, "umoci", "init", "--layout", "L");
    run(w, "umoci", "new", "--image", "L:t");
    run(w, "umoci", "unpack", "--image", "L:t", "B");
    Path r = w.resolve("B/rootfs");
    Files.createDirectories(r.resolve("dir/sub"));
    Files.writeString(r.resolve("a.txt"), "a");
    Files.writeString(r.resolve("keep.txt"), "k");
    Files.writeString(r.resolve("dir/old1"), "1");
    Files.writeString(r.resolve("dir/sub/x"), "x");
    run(w, "umoci", "repack", "--image", "L:t", "B");
    run(w, "umoci", "config", "--image", "L:t", "--config.cmd", "/bin/true", "--config.env", "K=V");
    run(w, "rm", "-rf", "B");
    run(w, "umoci", "unpack", "--image", "L:t", "B");
    Files.delete(r.resolve("a.txt"));
    run(w, "rm", "-rf", "B/rootfs/dir");
    Files.createDirectories(r.resolve("dir"));
    Files.writeString(r.resolve("dir/new.txt"), "new");
    run(w, "umoci", "repack", "--image", "L:t", "B");
    return w;
  }

  /** The merged view of lower dirs (top-most first) as overlayfs presents it: path -> content or "<dir>". */
  static TreeMap<String, String> merged(List<Path> lowerTopFirst) throws IOException {
    TreeMap<String, String> view = new TreeMap<>();
    List<Path> bottomUp = new ArrayList<>(lowerTopFirst);
    java.util.Collections.reverse(bottomUp);
    for (Path layer : bottomUp) {
      List<Path> entries;
      try (Stream<Path> s = Files.walk(layer)) {
        entries = s.filter(p -> !p.equals(layer)).toList();
      }
      for (Path p : entries) {
        String rel = layer.relativize(p).toString();
        LinuxFs.Stat st = LinuxFs.lstatat(LinuxFs.AT_FDCWD, p.toString());
        if (st.isWhiteout()) {
          removeTree(view, rel);
          continue;
        }
        if (st.isDir()) {
          byte[] opaque = LinuxFs.lgetxattr(p.toString(), "trusted.overlay.opaque");
          if (opaque != null && new String(opaque, StandardCharsets.UTF_8).equals("y")) {
            removeTree(view, rel);
          }
          view.put(rel, "<dir>");
        } else if (Files.isSymbolicLink(p)) {
          view.put(rel, "-> " + Files.readSymbolicLink(p));
        } else {
          removeTree(view, rel);
          view.put(rel, Files.readString(p));
        }
      }
    }
    return view;
  }

  static void removeTree(TreeMap<String, String> view, String rel) {
    view.remove(rel);
    view.subMap(rel + "/", rel + "/\uffff").clear();
  }

  void assertUmociView(String name) throws IOException {
    try (PreparedImage p = store.prepare(name)) {
      assertThat(p.lowerDirs()).hasSize(2);
      assertThat(merged(p.lowerDirs()))
          .containsEntry("keep.txt", "k")
          .containsEntry("dir", "<dir>")
          .containsEntry("dir/new.txt", "new")
          .doesNotContainKeys("a.txt", "dir/old1", "dir/sub", "dir/sub/x");
      assertThat(p.config().config().cmd()).contains(List.of("/bin/true"));
      assertThat(p.config().config().env()).contains("K=V");
    }
  }

  @Test
  void umociLayoutImports() throws Exception {
    Preconditions.require(ProcStatus.isRoot(), "overlay whiteouts (mknod 0:0) need root");
    Path w = umociLayout();
    Image img = store.importImage(w.resolve("L"), Optional.of("berth/umoci:t"), ImportProgress.NONE);
    assertThat(img.diffIds()).hasSize(2);
    assertUmociView("berth/umoci:t");
    // default name: layout directory name + the ref.name annotation
    assertThat(store.importImage(w.resolve("L"), Optional.empty(), null).name()).isEqualTo("l:t");
  }

  @Test
  void skopeoOciArchiveAndDockerArchiveImport() throws Exception {
    Preconditions.require(ProcStatus.isRoot(), "overlay whiteouts (mknod 0:0) need root");
    Path w = umociLayout();
    Preconditions.requireTool("skopeo", "skopeo");
    run(w, "skopeo", "--insecure-policy", "copy", "oci:L:t", "oci-archive:X.tar:t");
    run(w, "skopeo", "--insecure-policy", "copy", "oci:L:t", "docker-archive:Y.tar:berth/docker:t");
    Image x = store.importImage(w.resolve("X.tar"), Optional.of("berth/ociarchive:t"), null);
    assertUmociView(x.name());
    Image y = store.importImage(w.resolve("Y.tar"), Optional.empty(), null);
    assertThat(y.name()).endsWith("berth/docker:t");
    assertUmociView(y.name());
    // the same DiffIDs: every layer was unpacked once across all three formats
    assertThat(y.diffIds()).isEqualTo(x.diffIds());
    assertThat(store.stats().layersUnpacked()).isEqualTo(2);
  }

  @Test
  void jibImageImports() throws Exception {
    Path app = tmp.resolve("app");
    Files.createDirectories(app);
    Path hello = Files.writeString(app.resolve("hello.txt"), "hello from jib");
    for (ImageFormat format : List.of(ImageFormat.Docker, ImageFormat.OCI)) {
      Path tar = tmp.resolve("jib-" + format + ".tar");
      Jib.fromScratch()
          .addLayer(List.of(hello), AbsoluteUnixPath.get("/app"))
          .setEntrypoint("/app/run")
          .setFormat(format)
          .containerize(Containerizer.to(TarImage.at(tar).named("berth/jib:1"))
              .setBaseImageLayersCache(tmp.resolve("jib-cache"))
              .setApplicationLayersCache(tmp.resolve("jib-app-cache")));
      Image img = store.importImage(tar, Optional.empty(), null);
      assertThat(img.name()).isIn("berth/jib:1", "docker.io/berth/jib:1");
      assertThat(img.config().config().entrypoint()).contains(List.of("/app/run"));
      try (PreparedImage p = store.prepare(img.name())) {
        Path f = p.lowerDirs().get(0).resolve("app/hello.txt");
        assertThat(f).hasContent("hello from jib");
        assertThat(Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)).isTrue();
      }
    }
  }
}
