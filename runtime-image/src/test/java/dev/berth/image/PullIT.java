package dev.berth.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.cloud.tools.jib.api.Containerizer;
import com.google.cloud.tools.jib.api.Jib;
import com.google.cloud.tools.jib.api.TarImage;
import com.google.cloud.tools.jib.api.buildplan.AbsoluteUnixPath;
import com.google.cloud.tools.jib.api.buildplan.ImageFormat;
import dev.berth.image.Fixtures.Layer;
import dev.berth.image.Fixtures.Tar;
import dev.berth.image.registry.Credentials;
import dev.berth.image.registry.PullOptions;
import dev.berth.image.registry.RegistryException;
import dev.berth.linux.internal.ProcStatus;
import dev.berth.testing.LoopbackRegistry;
import dev.berth.testing.Preconditions;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pulls from a real registry: Debian's docker-registry (CNCF distribution) on 127.0.0.1 with TLS (a
 * CA made by the test) and htpasswd auth, images pushed by skopeo (the umoci-built layout, a
 * Jib-built image, a two-platform index), and a fault-injecting proxy in front of it.
 */
class PullIT {
  @TempDir Path tmp;
  LoopbackRegistry registry;
  ImageStore store;
  PullOptions options;

  @BeforeEach
  void start() throws Exception {
    Preconditions.requireTool("docker-registry", "docker-registry");
    Preconditions.requireTool("skopeo", "skopeo");
    Preconditions.requireTool("umoci", "umoci");
    Preconditions.requireTool("openssl", "openssl");
    Preconditions.requireTool("htpasswd", "apache2-utils");
    registry = new LoopbackRegistry(tmp.resolve("registry"));
    store = ImageStore.open(tmp.resolve("store"));
    options = PullOptions.builder()
        .authFiles(List.of())
        .certDirectories(List.of(registry.certDir))
        .credentials(registry.host(), new Credentials(LoopbackRegistry.USER, LoopbackRegistry.PASSWORD))
        .initialBackoff(Duration.ofMillis(20))
        .build();
  }

  @AfterEach
  void stop() throws Exception {
    if (store != null) {
      store.close();
    }
    if (registry != null) {
      registry.close();
    }
  }

  Path umociLayout() throws Exception {
    ImageInteropIT it = new ImageInteropIT();
    it.tmp = tmp;
    return it.umociLayout();
  }

  @Test
  void umociImagePushedBySkopeoIsPulledVerifiedAndUnpacked() throws Exception {
    Preconditions.require(ProcStatus.isRoot(), "overlay whiteouts (mknod 0:0) need root");
    Path w = umociLayout();
    registry.push(w, "oci:L:t", "berth/umoci:t");
    Image img = store.pull(registry.host() + "/berth/umoci:t", options, ImportProgress.NONE);
    assertThat(img.name()).isEqualTo(registry.host() + "/berth/umoci:t");
    assertThat(store.stats().layersUnpacked()).isEqualTo(2); // unpacked while downloading
    try (PreparedImage p = store.prepare(img.name())) {
      assertThat(ImageInteropIT.merged(p.lowerDirs()))
          .containsEntry("keep.txt", "k")
          .containsEntry("dir/new.txt", "new")
          .doesNotContainKeys("a.txt", "dir/old1", "dir/sub");
      assertThat(p.config().config().cmd()).contains(List.of("/bin/true"));
    }
    // pulled again: nothing is downloaded
    AtomicLong bytes = new AtomicLong();
    store.pull(registry.host() + "/berth/umoci:t", options, new ImportProgress() {
      @Override
      public void blobProgress(Descriptor blob, long n) {
        bytes.addAndGet(n);
      }
    });
    assertThat(bytes.get()).isZero();
    assertThat(store.stats().layersUnpacked()).isEqualTo(2);
  }

  @Test
  void jibImageIsPulled() throws Exception {
    Path app = Files.createDirectories(tmp.resolve("app"));
    Path hello = Files.writeString(app.resolve("hello.txt"), "hello from jib");
    Path tar = tmp.resolve("jib.tar");
    Jib.fromScratch()
        .addLayer(List.of(hello), AbsoluteUnixPath.get("/app"))
        .setEntrypoint("/app/run")
        .setFormat(ImageFormat.Docker)
        .containerize(Containerizer.to(TarImage.at(tar).named("berth/jib:1"))
            .setBaseImageLayersCache(tmp.resolve("jib-cache"))
            .setApplicationLayersCache(tmp.resolve("jib-app-cache")));
    registry.push(tmp, "docker-archive:" + tar, "berth/jib:1");
    Image img = store.pull(registry.host() + "/berth/jib:1", options, ImportProgress.NONE);
    assertThat(img.config().config().entrypoint()).contains(List.of("/app/run"));
    try (PreparedImage p = store.prepare(img.name())) {
      assertThat(p.lowerDirs().get(0).resolve("app/hello.txt")).hasContent("hello from jib");
    }
  }

  /** An OCI layout whose index.json names, as {@code multi}, an index of two single-layer images. */
  static Path twoPlatformLayout(Path dir, String archA, String archB) throws Exception {
    Files.createDirectories(dir.resolve("blobs/sha256"));
    Files.writeString(dir.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
    StringBuilder entries = new StringBuilder();
    for (String arch : List.of(archA, archB)) {
      Layer l = Layer.gzip(new Tar().file("arch", arch).bytes());
      Digest ld = Fixtures.blob(dir, l.blob());
      byte[] cb = ("{\"architecture\":\"" + arch + "\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"/arch\"]},\"rootfs\":{\"type\":"
          + "\"layers\",\"diff_ids\":[\"" + Digest.sha256Of(l.tar()) + "\"]}}").getBytes(StandardCharsets.UTF_8);
      Digest cd = Fixtures.blob(dir, cb);
      byte[] mb = ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"config\":{\"mediaType\":\""
          + MediaTypes.OCI_CONFIG + "\",\"digest\":\"" + cd + "\",\"size\":" + cb.length + "},\"layers\":[{\"mediaType\":\""
          + l.mediaType() + "\",\"digest\":\"" + ld + "\",\"size\":" + l.blob().length + "}]}").getBytes(StandardCharsets.UTF_8);
      Digest md = Fixtures.blob(dir, mb);
      entries.append(entries.length() > 0 ? "," : "").append("{\"mediaType\":\"").append(MediaTypes.OCI_MANIFEST)
          .append("\",\"digest\":\"").append(md).append("\",\"size\":").append(mb.length)
          .append(",\"platform\":{\"os\":\"linux\",\"architecture\":\"").append(arch).append("\"}}");
    }
    byte[] ib = ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_INDEX + "\",\"manifests\":[" + entries + "]}")
        .getBytes(StandardCharsets.UTF_8);
    Digest id = Fixtures.blob(dir, ib);
    Files.writeString(dir.resolve("index.json"), "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" + MediaTypes.OCI_INDEX
        + "\",\"digest\":\"" + id + "\",\"size\":" + ib.length + ",\"annotations\":{\"org.opencontainers.image.ref.name\":\"multi\"}}]}");
    return dir;
  }

  @Test
  void twoPlatformIndexPushedBySkopeoGivesEachPlatformItsImage() throws Exception {
    String host = Platform.host().architecture();
    String other = host.equals("arm64") ? "amd64" : "arm64";
    Path layout = twoPlatformLayout(tmp.resolve("multi"), other, host);
    registry.push(tmp, "oci:" + layout + ":multi", "berth/multi:1", "--all");
    Image mine = store.pull(registry.host() + "/berth/multi:1", options, ImportProgress.NONE);
    try (PreparedImage p = store.prepare(mine.name())) {
      assertThat(p.lowerDirs().get(0).resolve("arch")).hasContent(host);
    }
    Image theirs = store.pull(registry.host() + "/berth/multi:1",
        options.toBuilder().platform(new Platform("linux", other, "")).build(), ImportProgress.NONE);
    assertThat(theirs.config().architecture()).isEqualTo(other);
    assertThat(theirs.manifestDigest()).isNotEqualTo(mine.manifestDigest());
  }

  @Test
  void registryErrorsNameTheReferenceAndTheCode() throws Exception {
    Path w = umociLayout();
    registry.push(w, "oci:L:t", "berth/umoci:t");
    assertThatThrownBy(() -> store.pull(registry.host() + "/berth/umoci:missing", options, ImportProgress.NONE))
        .isInstanceOfSatisfying(RegistryException.class, e -> assertThat(e.code()).contains("MANIFEST_UNKNOWN"))
        .hasMessageContaining("pull " + registry.host() + "/berth/umoci:missing");
    assertThatThrownBy(() -> store.pull(registry.host() + "/berth/umoci:t",
        options.toBuilder().credentials(registry.host(), new Credentials(LoopbackRegistry.USER, "not-the-password")).build(),
        ImportProgress.NONE))
        .isInstanceOfSatisfying(RegistryException.class, e -> assertThat(e.code()).contains("UNAUTHORIZED"))
        .hasMessageNotContaining("not-the-password");
    assertThat(store.images()).isEmpty();
  }

  @Test
  void aRegistryRequiringClientCertificatesIsPulledFromWithTheCertsDPair() throws Exception {
    Path ca = Files.createDirectories(tmp.resolve("client-ca"));
    LoopbackRegistry.run(ca, "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=berth client CA");
    // a PKCS#1 RSA key, as `openssl genrsa -traditional` and older docker set-ups write it
    LoopbackRegistry.run(ca, "openssl", "genrsa", "-traditional", "-out", "client.key", "2048");
    LoopbackRegistry.run(ca, "openssl", "req", "-new", "-key", "client.key", "-out", "client.csr", "-subj", "/CN=berth client");
    LoopbackRegistry.run(ca, "openssl", "x509", "-req", "-in", "client.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "client.cert", "-days", "2");
    try (LoopbackRegistry mtls = new LoopbackRegistry(tmp.resolve("mtls"), null, ca.resolve("ca.crt"))) {
      Path hostDir = mtls.certDir.resolve(mtls.host());
      PullOptions o = options.toBuilder().certDirectories(List.of(mtls.certDir))
          .credentials(mtls.host(), new Credentials(LoopbackRegistry.USER, LoopbackRegistry.PASSWORD)).build();
      // without the pair: refused by the server's handshake, said so (no fall-back to plain HTTP)
      assertThatThrownBy(() -> store.pull(mtls.host() + "/berth/jib:1", o, ImportProgress.NONE))
          .isInstanceOf(RegistryException.class)
          .hasMessageContaining("registry " + mtls.host() + " refused the TLS handshake")
          .hasMessageContaining("NAME.cert and NAME.key");
      Files.copy(ca.resolve("client.cert"), hostDir.resolve("client.cert"));
      Files.copy(ca.resolve("client.key"), hostDir.resolve("client.key"));
      Path app = Files.createDirectories(tmp.resolve("app"));
      Path hello = Files.writeString(app.resolve("hello.txt"), "hello over mutual TLS");
      Path tar = tmp.resolve("jib.tar");
      Jib.fromScratch()
          .addLayer(List.of(hello), AbsoluteUnixPath.get("/app"))
          .setFormat(ImageFormat.Docker)
          .containerize(Containerizer.to(TarImage.at(tar).named("berth/jib:1"))
              .setBaseImageLayersCache(tmp.resolve("jib-cache"))
              .setApplicationLayersCache(tmp.resolve("jib-app-cache")));
      mtls.push(tmp, "docker-archive:" + tar, "berth/jib:1"); // skopeo reads the same pair
      Image img = store.pull(mtls.host() + "/berth/jib:1", o, ImportProgress.NONE);
      try (PreparedImage p = store.prepare(img.name())) {
        assertThat(p.lowerDirs().get(0).resolve("app/hello.txt")).hasContent("hello over mutual TLS");
      }
      // a key that is not the certificate's is refused before anything is sent, naming the files
      LoopbackRegistry.run(hostDir, "openssl", "genrsa", "-traditional", "-out", "client.key", "2048");
      assertThatThrownBy(() -> store.pull(mtls.host() + "/berth/jib:1", o, ImportProgress.NONE))
          .isInstanceOf(ImageException.class)
          .hasMessage("client key " + hostDir.resolve("client.key") + " does not match certificate " + hostDir.resolve("client.cert"));
    }
  }

  SSLContext trustRegistry() throws Exception {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    try (InputStream in = Files.newInputStream(registry.dir.resolve("ca.crt"))) {
      ks.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(ks);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, tmf.getTrustManagers(), null);
    return ctx;
  }

  @Test
  void faultsInjectedByAProxyAreSurvivedOrRefused() throws Exception {
    Path w = umociLayout();
    registry.push(w, "oci:L:t", "berth/umoci:t");
    try (FaultProxy proxy = new FaultProxy(registry.host(), trustRegistry())) {
      PullOptions viaProxy = options.toBuilder()
          .credentials(proxy.host(), new Credentials(LoopbackRegistry.USER, LoopbackRegistry.PASSWORD)).build();
      String ref = proxy.host() + "/berth/umoci:t";
      // a corrupted layer byte: refused, nothing stored
      proxy.fault("/v2/berth/umoci/blobs/", FaultProxy.Kind.CORRUPT);
      proxy.fault("/v2/berth/umoci/blobs/", FaultProxy.Kind.CORRUPT);
      proxy.fault("/v2/berth/umoci/blobs/", FaultProxy.Kind.CORRUPT);
      assertThatThrownBy(() -> store.pull(ref, viaProxy, ImportProgress.NONE)).isInstanceOf(ImageException.class);
      assertThat(store.images()).isEmpty();
      try (Stream<Path> s = Files.list(store.root().resolve("blobs/sha256"))) {
        assertThat(s.toList()).isEmpty();
      }
      proxy.faults.clear();
      // a 429 on the manifest and a connection dropped in every blob: waited for, resumed
      proxy.fault("/v2/berth/umoci/manifests/", FaultProxy.Kind.TOO_MANY_REQUESTS);
      for (int i = 0; i < 3; i++) {
        proxy.fault("/v2/berth/umoci/blobs/", FaultProxy.Kind.DROP_HALF);
      }
      proxy.requests.clear();
      Image img = store.pull(ref, viaProxy, ImportProgress.NONE);
      assertThat(img.diffIds()).hasSize(2);
      assertThat(proxy.requests).anySatisfy(r -> assertThat(r).contains("/blobs/").contains("bytes="));
      // two pulls at once of another image download each layer once
      store.close();
      store = ImageStore.open(tmp.resolve("store2"));
      proxy.requests.clear();
      ExecutorService pool = Executors.newFixedThreadPool(2);
      try {
        List<Future<Image>> fs = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
          fs.add(pool.submit(() -> store.pull(ref, viaProxy, ImportProgress.NONE)));
        }
        for (Future<Image> f : fs) {
          assertThat(f.get().diffIds()).hasSize(2);
        }
      } finally {
        pool.shutdownNow();
      }
      try (PreparedImage p = store.prepare(img.name())) {
        for (Descriptor l : layerDescriptors(p)) {
          assertThat(proxy.requests.stream().filter(r -> r.startsWith("GET ") && r.contains("/blobs/" + l.digest())).count())
              .as("GETs of layer " + l.digest()).isEqualTo(1);
        }
      }
    }
  }

  List<Descriptor> layerDescriptors(PreparedImage p) throws Exception {
    byte[] mb = Files.readAllBytes(store.root().resolve("blobs/sha256/" + p.image().manifestDigest().hex()));
    return dev.berth.image.internal.json.Json.readManifest(mb, "manifest").layers();
  }
}
