package dev.berth.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.image.Fixtures.Layer;
import dev.berth.image.Fixtures.Tar;
import dev.berth.image.registry.Credentials;
import dev.berth.image.registry.PullOptions;
import dev.berth.image.registry.RegistryException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ImageStore.pull against the in-JVM {@link FakeRegistry}, with the faults a real network and a hostile registry bring. */
class PullTest {
  @TempDir Path tmp;
  FakeRegistry reg;
  ImageStore store;
  PullOptions options;

  static final byte[] BASE = new Tar().dir("etc").file("etc/hostname", "base").dir("bin").file("bin/sh", "#!", 0755).bytes();
  static final byte[] TOP = new Tar().dir("app").file("app/run", "x".repeat(300_000)).bytes();
  List<Layer> layers;

  @BeforeEach
  void setUp() throws IOException {
    reg = new FakeRegistry();
    store = ImageStore.open(tmp.resolve("store"));
    options = PullOptions.builder()
        .authFiles(List.of())
        .certDirectories(List.of(FakeRegistry.CERTS))
        .initialBackoff(Duration.ofMillis(10))
        .registriesConf(tmp.resolve("no-registries.conf")) // the host's /etc/containers is not part of the test
        .registriesConfDir(tmp.resolve("no-registries.conf.d"))
        .build();
    layers = List.of(Layer.gzip(BASE), Layer.gzip(TOP));
  }

  @AfterEach
  void tearDown() {
    store.close();
    reg.close();
  }

  /** Publishes an image of {@code ls} for {@code arch}; returns the manifest bytes. */
  byte[] image(String repo, String tag, List<Layer> ls, String arch, String manifestType) {
    StringBuilder lj = new StringBuilder();
    List<String> diffIds = new ArrayList<>();
    for (Layer l : ls) {
      Digest d = reg.blob(l.blob());
      diffIds.add("\"" + Digest.sha256Of(l.tar()) + "\"");
      lj.append(lj.length() > 0 ? "," : "").append("{\"mediaType\":\"").append(l.mediaType()).append("\",\"digest\":\"")
          .append(d).append("\",\"size\":").append(l.blob().length).append('}');
    }
    byte[] cb = ("{\"architecture\":\"" + arch + "\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"/bin/sh\"]},"
        + "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[" + String.join(",", diffIds) + "]}}").getBytes(StandardCharsets.UTF_8);
    Digest cd = reg.blob(cb);
    String configType = manifestType.equals(MediaTypes.DOCKER_MANIFEST) ? MediaTypes.DOCKER_CONFIG : MediaTypes.OCI_CONFIG;
    byte[] mb = ("{\"schemaVersion\":2,\"mediaType\":\"" + manifestType + "\",\"config\":{\"mediaType\":\"" + configType
        + "\",\"digest\":\"" + cd + "\",\"size\":" + cb.length + "},\"layers\":[" + lj + "]}").getBytes(StandardCharsets.UTF_8);
    reg.publish(repo, tag, mb, manifestType);
    return mb;
  }

  byte[] image(String repo, String tag) {
    return image(repo, tag, layers, Platform.host().architecture(), MediaTypes.OCI_MANIFEST);
  }

  String ref(String repoTag) {
    return reg.host() + "/" + repoTag;
  }

  void assertNothingStored() throws IOException {
    assertThat(store.images()).isEmpty();
    try (Stream<Path> s = Files.list(store.root().resolve("blobs/sha256"))) {
      assertThat(s.toList()).isEmpty();
    }
    try (Stream<Path> s = Files.list(store.root().resolve("layers/sha256"))) {
      assertThat(s.toList()).isEmpty();
    }
    try (Stream<Path> s = Files.list(store.root().resolve("tmp"))) {
      assertThat(s.toList()).isEmpty();
    }
    try (Stream<Path> s = Files.list(store.root().resolve("layers"))) {
      assertThat(s.map(p -> p.getFileName().toString()).toList()).containsExactly("sha256");
    }
  }

  @Test
  void pullsStoresUnpacksAndDoesNotDownloadPresentLayersAgain() throws IOException {
    byte[] mb = image("team/app", "1.0");
    AtomicLong bytes = new AtomicLong();
    Image img = store.pull(ref("team/app:1.0"), options, new ImportProgress() {
      @Override
      public void blobProgress(Descriptor blob, long n) {
        bytes.addAndGet(n);
      }
    });
    assertThat(img.name()).isEqualTo(reg.host() + "/team/app:1.0");
    assertThat(img.manifestDigest()).isEqualTo(Digest.sha256Of(mb));
    assertThat(store.find(reg.host() + "/team/app:1.0")).isPresent();
    for (Digest d : img.diffIds()) {
      assertThat(store.layerDir(d)).isDirectory(); // unpacked as it arrived
    }
    assertThat(Files.readString(store.layerDir(img.diffIds().get(0)).resolve("etc/hostname"))).isEqualTo("base");
    assertThat(bytes.get()).isEqualTo(layers.get(0).blob().length + layers.get(1).blob().length);
    Digest top = Digest.sha256Of(layers.get(1).blob());
    assertThat(reg.blobGets(top)).isEqualTo(1);
    store.pull(ref("team/app:1.0"), options, ImportProgress.NONE);
    assertThat(reg.blobGets(top)).isEqualTo(1);
    // a second image sharing the base layer downloads only its own
    image("team/other", "2", List.of(layers.get(0), Layer.plain(new Tar().file("o", "o").bytes())), Platform.host().architecture(),
        MediaTypes.DOCKER_MANIFEST);
    store.pull(ref("team/other:2"), options, ImportProgress.NONE);
    assertThat(reg.blobGets(Digest.sha256Of(layers.get(0).blob()))).isEqualTo(1);
    try (PreparedImage p = store.prepare(reg.host() + "/team/other:2")) {
      assertThat(p.lowerDirs()).hasSize(2);
    }
  }

  @Test
  void mirrorsComeFirstAndTheRegistryIsTheFallback() throws IOException {
    image("app", "1");
    Digest top = Digest.sha256Of(layers.get(1).blob());
    try (FakeRegistry mirror = new FakeRegistry()) {
      PullOptions viaMirror = options.toBuilder().mirror(reg.host(), mirror.host()).build();
      // the mirror lacks the image: MANIFEST_UNKNOWN there, the registry serves it
      Image img = store.pull(ref("app:1"), viaMirror, ImportProgress.NONE);
      assertThat(img.name()).isEqualTo(reg.host() + "/app:1");
      assertThat(mirror.requests("/manifests/")).hasSize(1);
      assertThat(reg.blobGets(top)).isEqualTo(1);
      // a mirror that has it serves everything; the registry is not asked
      mirror.manifests.putAll(reg.manifests);
      mirror.manifestTypes.putAll(reg.manifestTypes);
      mirror.blobs.putAll(reg.blobs);
      int asked = reg.seen.size();
      try (ImageStore other = ImageStore.open(tmp.resolve("store2"))) {
        assertThat(other.pull(ref("app:1"), viaMirror, ImportProgress.NONE).name()).isEqualTo(reg.host() + "/app:1");
      }
      assertThat(reg.seen).hasSize(asked);
      assertThat(mirror.blobGets(top)).isEqualTo(1);
    }
  }

  @Test
  void aMirrorAndShortNamesConfiguredOnlyByRegistriesConfAreUsedAndABlockedRegistryIsRefused() throws IOException {
    image("hub/app", "1");
    Digest top = Digest.sha256Of(layers.get(1).blob());
    try (FakeRegistry mirror = new FakeRegistry()) {
      // the mirror serves the registry's repository below a path of its own (location rewriting)
      reg.manifests.forEach((k, v) -> mirror.manifests.put("cache/" + k, v));
      reg.manifestTypes.forEach((k, v) -> mirror.manifestTypes.put("cache/" + k, v));
      mirror.blobs.putAll(reg.blobs);
      Path conf = Files.writeString(tmp.resolve("registries.conf"), """
          unqualified-search-registries = ["%s"]

          [[registry]]
          prefix = "%s"
          location = "%s"

          [[registry.mirror]]
          location = "%s/cache"
          """.formatted(reg.host(), reg.host(), reg.host(), mirror.host()));
      PullOptions o = options.toBuilder().registriesConf(conf).build();
      Image img = store.pull("hub/app:1", o, ImportProgress.NONE); // a short name: the one search registry
      assertThat(img.name()).isEqualTo(reg.host() + "/hub/app:1");
      assertThat(mirror.blobGets(top)).isEqualTo(1);
      assertThat(mirror.requests("/v2/cache/hub/app/manifests/1")).hasSize(1);
      assertThat(reg.blobGets(top)).isZero();
      assertThat(reg.requests("/manifests/")).isEmpty();
      // explicit options override the file: the API's mirror list replaces the file's
      try (ImageStore other = ImageStore.open(tmp.resolve("store2"))) {
        other.pull(ref("hub/app:1"), o.toBuilder().mirror(reg.host(), "127.0.0.1:1").maxAttempts(1).build(),
            ImportProgress.NONE);
      }
      assertThat(reg.blobGets(top)).isEqualTo(1);
      assertThat(mirror.blobGets(top)).isEqualTo(1);
    }
    Path blocked = Files.writeString(tmp.resolve("blocked.conf"), """
        [[registry]]
        prefix = "%s/hub"
        blocked = true
        """.formatted(reg.host()));
    int asked = reg.seen.size();
    assertThatThrownBy(() -> store.pull(ref("hub/app:2"), options.toBuilder().registriesConf(blocked).build(),
        ImportProgress.NONE))
        .isInstanceOf(ImageException.class)
        .hasMessageContaining("registry " + reg.host() + " is blocked in " + blocked);
    assertThat(reg.seen).hasSize(asked); // refused before any request
  }

  /** A child JVM running {@link PullChild} into the store at {@code root}. */
  static Process pullProcess(Path root, String reference, Path log) throws IOException {
    String java = ProcessHandle.current().info().command().orElse("java");
    return new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), PullChild.class.getName(),
        root.toString(), reference, FakeRegistry.CERTS.toString())
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
  }

  static void awaitExit(Process p, Path log) throws Exception {
    if (!p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("the pulling process did not end: " + Files.readString(log));
    }
    assertThat(p.exitValue()).as(Files.readString(log)).isZero();
  }

  static void awaitCondition(java.util.function.BooleanSupplier c, String what) throws InterruptedException {
    long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!c.getAsBoolean()) {
      if (System.nanoTime() > end) {
        throw new AssertionError("timed out waiting until " + what);
      }
      Thread.sleep(20);
    }
  }

  static List<Path> list(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.toList();
    }
  }

  @Test
  void twoProcessesPullingOneImageAtOnceDownloadEachLayerOnce() throws Exception {
    image("app", "1");
    Digest base = Digest.sha256Of(layers.get(0).blob());
    Digest top = Digest.sha256Of(layers.get(1).blob());
    // each layer's first GET is answered only once both processes have their manifest, so that
    // the second one reaches the layers while the first downloads them
    FakeRegistry.Fault late = (x, body) -> {
      try {
        awaitCondition(() -> reg.requests("/v2/app/manifests/1").size() >= 2, "both processes asked for the manifest");
        Thread.sleep(500);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return false; // then served as usual
    };
    reg.fault("/v2/app/blobs/" + base, late);
    reg.fault("/v2/app/blobs/" + top, late);
    Path shared = tmp.resolve("shared");
    Process a = pullProcess(shared, ref("app:1"), tmp.resolve("a.log"));
    Process b = pullProcess(shared, ref("app:1"), tmp.resolve("b.log"));
    awaitExit(a, tmp.resolve("a.log"));
    awaitExit(b, tmp.resolve("b.log"));
    assertThat(Files.readString(tmp.resolve("a.log"))).contains("pulled " + reg.host() + "/app:1");
    assertThat(Files.readString(tmp.resolve("b.log"))).contains("pulled " + reg.host() + "/app:1");
    String logs = Files.readString(tmp.resolve("a.log")) + Files.readString(tmp.resolve("b.log")) + reg.seen;
    assertThat(reg.blobGets(base)).as(logs).isEqualTo(1);
    assertThat(reg.blobGets(top)).as(logs).isEqualTo(1);
    assertThat(list(shared.resolve("downloads"))).isEmpty(); // no lock file left behind
    try (ImageStore s = ImageStore.open(shared)) {
      assertThat(Files.readString(s.layerDir(s.find(reg.host() + "/app:1").orElseThrow().diffIds().get(0))
          .resolve("etc/hostname"))).isEqualTo("base");
    }
  }

  @Test
  void aDownloadingProcessKilledMidBlobLetsTheWaitingOneDownloadIt() throws Exception {
    image("app", "1");
    Digest base = Digest.sha256Of(layers.get(0).blob());
    Digest top = Digest.sha256Of(layers.get(1).blob());
    java.util.concurrent.CountDownLatch midBlob = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    reg.fault("/v2/app/blobs/" + top, (x, body) -> {
      x.sendResponseHeaders(200, body.length);
      OutputStream o = x.getResponseBody();
      o.write(body, 0, body.length / 2);
      o.flush();
      midBlob.countDown();
      try {
        release.await(120, java.util.concurrent.TimeUnit.SECONDS); // the rest never comes
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      x.close();
      return true;
    });
    Path shared = tmp.resolve("shared");
    Process holder = pullProcess(shared, ref("app:1"), tmp.resolve("holder.log"));
    Process waiter = null;
    try {
      assertThat(midBlob.await(60, java.util.concurrent.TimeUnit.SECONDS)).as("the holder is mid-blob").isTrue();
      waiter = pullProcess(shared, ref("app:1"), tmp.resolve("waiter.log"));
      awaitCondition(() -> reg.requests("/v2/app/manifests/1").size() >= 2, "the second process asked for the manifest");
      Thread.sleep(1500);
      assertThat(reg.blobGets(top)).as("the second process waits for the holder").isEqualTo(1);
      assertThat(waiter.isAlive()).isTrue();
      holder.destroyForcibly(); // SIGKILL: the kernel releases its lock
      assertThat(holder.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
      awaitExit(waiter, tmp.resolve("waiter.log"));
    } finally {
      release.countDown();
      holder.destroyForcibly();
      if (waiter != null) {
        waiter.destroyForcibly();
      }
    }
    assertThat(Files.readString(tmp.resolve("waiter.log"))).contains("pulled " + reg.host() + "/app:1");
    assertThat(reg.blobGets(top)).isEqualTo(2); // the killed holder's and the waiter's
    assertThat(reg.blobGets(base)).isEqualTo(1); // stored by the holder before it died: not downloaded again
    assertThat(list(shared.resolve("downloads"))).isEmpty();
    try (ImageStore s = ImageStore.open(shared)) { // alone now: the killed process's staging is swept
      Image img = s.find(reg.host() + "/app:1").orElseThrow();
      assertThat(s.layerDir(img.diffIds().get(1)).resolve("app/run")).hasSize(300_000);
      assertThat(list(shared.resolve("tmp"))).isEmpty();
    }
  }

  @Test
  void droppedConnectionResumesWithRange() throws IOException {
    image("app", "1");
    Digest top = Digest.sha256Of(layers.get(1).blob());
    reg.fault("/v2/app/blobs/" + top, (x, body) -> {
      x.sendResponseHeaders(200, body.length);
      OutputStream o = x.getResponseBody();
      o.write(body, 0, body.length / 2);
      o.flush();
      x.getHttpContext().getServer(); // the exchange is closed with half the bytes written: the connection drops
      return true;
    });
    Image img = store.pull(ref("app:1"), options, ImportProgress.NONE);
    assertThat(store.layerDir(img.diffIds().get(1)).resolve("app/run")).hasSize(300_000);
    List<FakeRegistry.Seen> gets = reg.requests("/blobs/" + top);
    assertThat(gets).hasSize(2);
    assertThat(gets.get(0).range()).isNull();
    assertThat(gets.get(1).range()).startsWith("bytes=").endsWith("-").isNotEqualTo("bytes=0-");
  }

  @Test
  void corruptedByteIsRefusedAndNothingIsStored() throws IOException {
    image("app", "1");
    Digest top = Digest.sha256Of(layers.get(1).blob());
    reg.fault("/v2/app/blobs/" + top, (x, body) -> {
      byte[] bad = body.clone();
      bad[bad.length - 10] ^= 0x01;
      FakeRegistry.send(x, 200, bad);
      return true;
    });
    assertThatThrownBy(() -> store.pull(ref("app:1"), options, ImportProgress.NONE))
        .isInstanceOf(BlobVerificationException.class)
        .hasMessageContaining(top.toString());
    assertNothingStored();
    // and a retry simply works
    store.pull(ref("app:1"), options, ImportProgress.NONE);
    assertThat(store.images()).hasSize(1);
  }

  @Test
  void registrySendingMoreThanTheBlobSizeIsCutOff() throws IOException {
    image("app", "1");
    Digest top = Digest.sha256Of(layers.get(1).blob());
    reg.fault("/v2/app/blobs/" + top, (x, body) -> {
      byte[] more = java.util.Arrays.copyOf(body, body.length + 1_000_000);
      FakeRegistry.send(x, 200, more);
      return true;
    });
    assertThatThrownBy(() -> store.pull(ref("app:1"), options, ImportProgress.NONE))
        .isInstanceOf(BlobVerificationException.class)
        .hasMessageContaining("more than its");
    assertNothingStored();
  }

  @Test
  void interruptedPullLeavesNothingAndCanBeRetried() throws Exception {
    image("app", "1");
    Digest top = Digest.sha256Of(layers.get(1).blob());
    java.util.concurrent.CountDownLatch midBlob = new java.util.concurrent.CountDownLatch(1);
    reg.fault("/v2/app/blobs/" + top, (x, body) -> {
      x.sendResponseHeaders(200, body.length);
      OutputStream o = x.getResponseBody();
      o.write(body, 0, body.length / 2);
      o.flush();
      midBlob.countDown();
      try {
        Thread.sleep(5_000); // the rest never comes in time
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return true;
    });
    java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
    Thread puller = new Thread(() -> {
      try {
        store.pull(ref("app:1"), options, ImportProgress.NONE);
      } catch (Throwable t) {
        failure.set(t);
      }
    });
    puller.start();
    assertThat(midBlob.await(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    Thread.sleep(200);
    puller.interrupt();
    puller.join(4_000); // the downloads are ended, not waited for
    assertThat(puller.isAlive()).isFalse();
    assertThat(failure.get()).isInstanceOf(java.io.InterruptedIOException.class);
    assertNothingStored();
    store.pull(ref("app:1"), options, ImportProgress.NONE);
    assertThat(store.images()).hasSize(1);
  }

  @Test
  void tooManyRequestsWaitsForRetryAfter() throws IOException {
    image("app", "1");
    reg.fault("/v2/app/manifests/1", (x, body) -> {
      x.getResponseHeaders().set("Retry-After", "1");
      FakeRegistry.error(x, 429, "TOOMANYREQUESTS", "slow down");
      return true;
    });
    long t0 = System.nanoTime();
    store.pull(ref("app:1"), options, ImportProgress.NONE);
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThanOrEqualTo(Duration.ofSeconds(1));
    assertThat(reg.requests("/manifests/1")).hasSize(2);
  }

  @Test
  void retryAfterBeyondTheLimitFailsNamingTheCode() throws IOException {
    image("app", "1");
    reg.fault("/v2/app/manifests/1", (x, body) -> {
      x.getResponseHeaders().set("Retry-After", "3600");
      FakeRegistry.error(x, 429, "TOOMANYREQUESTS", "slow down");
      return true;
    });
    assertThatThrownBy(() -> store.pull(ref("app:1"), options, ImportProgress.NONE))
        .isInstanceOfSatisfying(RegistryException.class, e -> {
          assertThat(e.code()).contains("TOOMANYREQUESTS");
          assertThat(e.status()).isEqualTo(429);
        })
        .hasMessageContaining("pull " + reg.host() + "/app:1")
        .hasMessageContaining("3600 s");
    assertNothingStored();
  }

  @Test
  void serverErrorsAreRetriedWithBackoff() throws IOException {
    image("app", "1");
    Digest base = Digest.sha256Of(layers.get(0).blob());
    for (int i = 0; i < 2; i++) {
      reg.fault("/v2/app/blobs/" + base, (x, body) -> {
        FakeRegistry.send(x, 503, "busy".getBytes(StandardCharsets.UTF_8));
        return true;
      });
    }
    store.pull(ref("app:1"), options, ImportProgress.NONE);
    assertThat(reg.blobGets(base)).isEqualTo(3);
  }

  @Test
  void blobsRedirectedToAnotherHostGetNoAuthorization() throws IOException {
    reg.basicUser = "alice";
    reg.basicPassword = "s3cret";
    image("app", "1");
    try (FakeRegistry cdn = new FakeRegistry()) {
      for (Layer l : layers) {
        cdn.blob(l.blob());
        Digest d = Digest.sha256Of(l.blob());
        reg.fault("/v2/app/blobs/" + d, (x, body) -> {
          x.getResponseHeaders().set("Location", "https://" + cdn.host() + "/v2/cdn/blobs/" + d + "?X-Signature=abc");
          FakeRegistry.send(x, 307, new byte[0]);
          return true;
        });
      }
      Image img = store.pull(ref("app:1"), options.toBuilder().credentials(reg.host(), new Credentials("alice", "s3cret")).build(),
          ImportProgress.NONE);
      assertThat(img.diffIds()).hasSize(2);
      assertThat(cdn.requests("/blobs/")).hasSize(2).allSatisfy(s -> assertThat(s.authorization()).isNull());
      assertThat(reg.requests("/manifests/1")).last().satisfies(s -> assertThat(s.authorization()).startsWith("Basic "));
    }
  }

  @Test
  void redirectToAFileUriIsRefused() throws IOException {
    image("app", "1");
    Digest base = Digest.sha256Of(layers.get(0).blob());
    reg.fault("/v2/app/blobs/" + base, (x, body) -> {
      x.getResponseHeaders().set("Location", "file:///etc/shadow");
      FakeRegistry.send(x, 302, new byte[0]);
      return true;
    });
    assertThatThrownBy(() -> store.pull(ref("app:1"), options.toBuilder().maxAttempts(1).build(), ImportProgress.NONE))
        .isInstanceOf(RegistryException.class)
        .hasMessageContaining("redirected to a `file` URI");
    assertNothingStored();
  }

  @Test
  void oversizedManifestIsRefusedBeforeItIsRead() throws IOException {
    byte[] huge = new byte[5 << 20];
    java.util.Arrays.fill(huge, (byte) ' ');
    reg.publish("app", "big", huge, MediaTypes.OCI_MANIFEST);
    assertThatThrownBy(() -> store.pull(ref("app:big"), options, ImportProgress.NONE))
        .isInstanceOf(LimitExceededException.class)
        .hasMessageContaining("over the limit of " + store.limits().maxJsonBytes());
    assertNothingStored();
  }

  @Test
  void unknownManifestNamesTheReferenceAndTheCode() throws IOException {
    assertThatThrownBy(() -> store.pull(ref("app:nope"), options, ImportProgress.NONE))
        .isInstanceOfSatisfying(RegistryException.class, e -> assertThat(e.code()).contains("MANIFEST_UNKNOWN"))
        .hasMessageContaining("pull " + reg.host() + "/app:nope")
        .hasMessageContaining("404 MANIFEST_UNKNOWN");
  }

  @Test
  void deniedNamesTheCode() throws IOException {
    image("app", "1");
    reg.fault("/v2/app/manifests/1", (x, body) -> {
      FakeRegistry.error(x, 403, "DENIED", "requested access to the resource is denied");
      return true;
    });
    assertThatThrownBy(() -> store.pull(ref("app:1"), options, ImportProgress.NONE))
        .isInstanceOfSatisfying(RegistryException.class, e -> assertThat(e.code()).contains("DENIED"))
        .hasMessageContaining("403 DENIED: requested access to the resource is denied");
  }

  @Test
  void bearerTokenFlowWithCredentials() throws IOException {
    reg.bearer = true;
    reg.basicUser = "bob";
    reg.basicPassword = "pw";
    image("app", "1");
    assertThatThrownBy(() -> store.pull(ref("app:1"), options, ImportProgress.NONE))
        .isInstanceOfSatisfying(RegistryException.class, e -> assertThat(e.code()).contains("UNAUTHORIZED"))
        .hasMessageContaining("no credentials for " + reg.host());
    assertThatThrownBy(() -> store.pull(ref("app:1"),
        options.toBuilder().credentials(reg.host(), new Credentials("bob", "wrong-secret")).build(), ImportProgress.NONE))
        .isInstanceOf(RegistryException.class)
        .hasMessageContaining("credentials were refused")
        .hasMessageNotContaining("wrong-secret");
    Image img = store.pull(ref("app:1"), options.toBuilder().credentials(reg.host(), new Credentials("bob", "pw")).build(),
        ImportProgress.NONE);
    assertThat(img.diffIds()).hasSize(2);
    assertThat(reg.requests("/token")).allSatisfy(s -> assertThat(s.path()).isEqualTo("/token"));
  }

  @Test
  void failingTokenEndpointFailsThePullNamingIt() throws IOException {
    reg.bearer = true;
    reg.tokenFailure = x -> 500;
    image("app", "1");
    assertThatThrownBy(() -> store.pull(ref("app:1"), options.toBuilder().maxAttempts(2).build(), ImportProgress.NONE))
        .isInstanceOf(RegistryException.class)
        .hasMessageContaining("token endpoint https://" + reg.host() + "/token")
        .hasMessageContaining("answered 500");
    assertNothingStored();
  }

  @Test
  void identityTokensAreExchangedAtTheTokenEndpointAndNeverShown() throws IOException {
    reg.bearer = true;
    reg.refreshToken = "refresh-me-3f9a";
    image("app", "1");
    Path auth = tmp.resolve("auth.json");
    // as `docker login` writes it for an OAuth2 registry: the token beside an auth of "<token>:"
    Files.writeString(auth, "{\"auths\":{\"" + reg.host() + "\":{\"auth\":\""
        + Base64.getEncoder().encodeToString("<token>:".getBytes(StandardCharsets.UTF_8)) + "\",\"identitytoken\":\"wrong-token-77\"}}}");
    assertThatThrownBy(() -> store.pull(ref("app:1"), options.toBuilder().authFiles(List.of(auth)).build(), ImportProgress.NONE))
        .isInstanceOf(RegistryException.class)
        .hasMessageContaining("token endpoint https://" + reg.host() + "/token")
        .hasMessageContaining("answered 401 UNAUTHORIZED (the identity token was refused)")
        .hasMessageNotContaining("wrong-token-77");
    assertNothingStored();
    Files.writeString(auth, Files.readString(auth).replace("wrong-token-77", "refresh-me-3f9a"));
    reg.tokenForms.clear();
    Image img = store.pull(ref("app:1"), options.toBuilder().authFiles(List.of(auth)).build(), ImportProgress.NONE);
    assertThat(img.diffIds()).hasSize(2);
    assertThat(reg.tokenForms).first().satisfies(f -> assertThat(f)
        .containsEntry("grant_type", "refresh_token").containsEntry("refresh_token", "refresh-me-3f9a")
        .containsEntry("service", "fake").containsEntry("scope", "repository:app:pull").containsEntry("client_id", "berth"));
    assertThat(reg.requests("/token")).allSatisfy(r -> assertThat(r.method()).isEqualTo("POST"));
    // never sent as Basic auth: a registry that asks for Basic is refused, the token unsent
    reg.bearer = false;
    reg.basicUser = "x";
    reg.basicPassword = "y";
    assertThatThrownBy(() -> store.pull(ref("app:1"), options.toBuilder().credentials(reg.host(),
        dev.berth.image.registry.Credentials.identityToken("refresh-me-3f9a")).build(), ImportProgress.NONE))
        .hasMessageContaining("identity token").hasMessageContaining("asked for Basic auth")
        .hasMessageNotContaining("refresh-me-3f9a");
    assertThat(reg.requests("/v2/")).noneSatisfy(r -> assertThat(String.valueOf(r.authorization())).startsWith("Basic"));
  }

  @Test
  void credentialsComeFromAnAuthFile() throws IOException {
    reg.basicUser = "carol";
    reg.basicPassword = "pa:ss";
    image("app", "1");
    Path auth = tmp.resolve("auth.json");
    Files.writeString(auth, "{\"auths\":{\"" + reg.host() + "\":{\"auth\":\""
        + Base64.getEncoder().encodeToString("carol:pa:ss".getBytes(StandardCharsets.UTF_8)) + "\"}}}");
    store.pull(ref("app:1"), options.toBuilder().authFiles(List.of(tmp.resolve("missing.json"), auth)).build(), ImportProgress.NONE);
    assertThat(store.images()).hasSize(1);
  }

  @Test
  void credentialsComeFromACredentialHelper() throws IOException {
    reg.basicUser = "dave";
    reg.basicPassword = "from-helper";
    image("app", "1");
    Path helpers = Files.createDirectory(tmp.resolve("helpers"));
    Path helper = helpers.resolve("docker-credential-fake");
    Files.writeString(helper, "#!/bin/sh\nread server\n[ \"$1\" = get ] && [ \"$server\" = \"" + reg.host()
        + "\" ] || exit 1\necho '{\"ServerURL\":\"'$server'\",\"Username\":\"dave\",\"Secret\":\"from-helper\"}'\n");
    Files.setPosixFilePermissions(helper, PosixFilePermissions.fromString("rwx------"));
    Path config = tmp.resolve("config.json");
    Files.writeString(config, "{\"auths\":{},\"credHelpers\":{\"" + reg.host() + "\":\"fake\"}}");
    store.pull(ref("app:1"), options.toBuilder().authFiles(List.of(config)).credentialHelperDirectory(helpers).build(),
        ImportProgress.NONE);
    assertThat(store.images()).hasSize(1);
  }

  @Test
  void concurrentPullsDownloadEachLayerOnce() throws Exception {
    image("app", "1");
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      List<Future<Image>> fs = new ArrayList<>();
      for (int i = 0; i < 2; i++) {
        fs.add(pool.submit(() -> store.pull(ref("app:1"), options, ImportProgress.NONE)));
      }
      for (Future<Image> f : fs) {
        assertThat(f.get().diffIds()).hasSize(2);
      }
    } finally {
      pool.shutdownNow();
    }
    for (Layer l : layers) {
      assertThat(reg.blobGets(Digest.sha256Of(l.blob()))).isEqualTo(1);
    }
  }

  @Test
  void twoPlatformIndexPicksTheHostOrTheAskedPlatform() throws IOException {
    String host = Platform.host().architecture();
    String other = host.equals("arm64") ? "amd64" : "arm64";
    byte[] mine = image("multi", "mine-only", layers, host, MediaTypes.OCI_MANIFEST);
    byte[] theirs = image("multi", "theirs-only", List.of(Layer.gzip(new Tar().file("other", "o").bytes())), other,
        MediaTypes.OCI_MANIFEST);
    byte[] index = ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_INDEX + "\",\"manifests\":["
        + "{\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"digest\":\"" + Digest.sha256Of(theirs) + "\",\"size\":" + theirs.length
        + ",\"platform\":{\"os\":\"linux\",\"architecture\":\"" + other + "\"}},"
        + "{\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"digest\":\"" + Digest.sha256Of(mine) + "\",\"size\":" + mine.length
        + ",\"platform\":{\"os\":\"linux\",\"architecture\":\"" + host + "\"}}]}").getBytes(StandardCharsets.UTF_8);
    reg.publish("multi", "1", index, MediaTypes.OCI_INDEX);
    assertThat(store.pull(ref("multi:1"), options, ImportProgress.NONE).manifestDigest()).isEqualTo(Digest.sha256Of(mine));
    Image o = store.pull(ref("multi:1"), options.toBuilder().platform(new Platform("linux", other, "")).build(), ImportProgress.NONE);
    assertThat(o.manifestDigest()).isEqualTo(Digest.sha256Of(theirs));
    assertThatThrownBy(() -> store.pull(ref("multi:1"), options.toBuilder().platform(new Platform("linux", "s390x", "")).build(),
        ImportProgress.NONE)).hasMessageContaining("no manifest for linux/s390x");
  }

  @Test
  void pullByDigestVerifiesTheManifest() throws IOException {
    byte[] mb = image("app", "1");
    Digest d = Digest.sha256Of(mb);
    Image img = store.pull(ref("app@" + d), options, ImportProgress.NONE);
    assertThat(img.name()).isEqualTo(reg.host() + "/app:sha256-" + d.hex());
    // a registry answering a digest with other bytes is refused
    Digest wrong = Digest.sha256Of("other".getBytes(StandardCharsets.UTF_8));
    reg.manifests.put("app:" + wrong, mb);
    reg.manifestTypes.put("app:" + wrong, MediaTypes.OCI_MANIFEST);
    assertThatThrownBy(() -> store.pull(ref("app:2@" + wrong), options, ImportProgress.NONE))
        .isInstanceOf(BlobVerificationException.class)
        .hasMessageContaining("failed verification");
  }

  @Test
  void plainHttpOnLoopbackAfterHttpsFails() throws IOException {
    try (FakeRegistry plain = new FakeRegistry(false)) {
      FakeRegistry tlsOne = reg;
      reg = plain;
      try {
        image("app", "1");
        assertThat(store.pull(ref("app:1"), options, ImportProgress.NONE).diffIds()).hasSize(2);
      } finally {
        reg = tlsOne;
      }
    }
  }

  @Test
  void untrustedCertificateIsRefused() throws IOException {
    image("app", "1");
    // without the registry's CA the https attempt fails on the certificate; the plain http attempt
    // that loopback allows then gets no HTTP answer from a TLS server
    assertThatThrownBy(() -> store.pull(ref("app:1"), options.toBuilder().certDirectories(List.of()).maxAttempts(1).build(),
        ImportProgress.NONE))
        .isInstanceOf(RegistryException.class)
        .satisfies(e -> assertThat(e.getSuppressed()).anySatisfy(s -> assertThat(s).hasStackTraceContaining("PKIX")));
    assertNothingStored();
  }

  @Test
  void plainHttpIsRefusedForARegistryThatIsNotLoopback() {
    assertThatThrownBy(() -> store.pull("registry.invalid:1/app:1", options.toBuilder().maxAttempts(1)
        .connectTimeout(Duration.ofSeconds(2)).build(), ImportProgress.NONE))
        .isInstanceOf(RegistryException.class)
        .hasMessageContaining("cannot be reached");
  }
}
