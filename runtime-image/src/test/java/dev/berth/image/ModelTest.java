package dev.berth.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.image.internal.json.Json;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ModelTest {
  static final String H = "a".repeat(64);
  static final String H2 = "b".repeat(64);

  static byte[] b(String s) {
    return Fixtures.json(s).getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void digestParsing() {
    Digest d = Digest.parse("sha256:" + H);
    assertThat(d.algorithm()).isEqualTo("sha256");
    assertThat(d.hex()).isEqualTo(H);
    assertThat(d).isEqualTo(Digest.parse("sha256:" + H)).hasToString("sha256:" + H);
    assertThat(Digest.parse("sha512:" + "c".repeat(128)).algorithm()).isEqualTo("sha512");
    assertThat(Digest.sha256Of("").hex()).isEqualTo("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    for (String bad : List.of("sha256:" + H.toUpperCase(), "sha256:abc", "md5:" + H, H, "sha256:" + H + "0", "sha512:" + H, "")) {
      assertThatThrownBy(() -> Digest.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("`" + bad + "`");
    }
  }

  @Test
  void manifestRoundTrip() throws Exception {
    String json = "{'schemaVersion':2,'mediaType':'application/vnd.oci.image.manifest.v1+json',"
        + "'config':{'mediaType':'application/vnd.oci.image.config.v1+json','digest':'sha256:" + H + "','size':7023},"
        + "'layers':[{'mediaType':'application/vnd.oci.image.layer.v1.tar+gzip','digest':'sha256:" + H2 + "','size':32654,"
        + "'annotations':{'k':'v'}},{'mediaType':'application/vnd.oci.image.layer.v1.tar+zstd','digest':'sha256:" + H + "','size':1}],"
        + "'annotations':{'org.opencontainers.image.created':'2020'},'unknownField':1}";
    ImageManifest m = Json.readManifest(b(json), "m");
    assertThat(m.config().size()).isEqualTo(7023);
    assertThat(m.layers()).hasSize(2);
    assertThat(m.layers().get(0).annotations()).containsEntry("k", "v");
    assertThat(Json.readManifest(Json.writeManifest(m), "again")).isEqualTo(m);
  }

  @Test
  void dockerManifestAccepted() throws Exception {
    String json = "{'schemaVersion':2,'mediaType':'application/vnd.docker.distribution.manifest.v2+json',"
        + "'config':{'mediaType':'application/vnd.docker.container.image.v1+json','digest':'sha256:" + H + "','size':1},"
        + "'layers':[{'mediaType':'application/vnd.docker.image.rootfs.diff.tar.gzip','digest':'sha256:" + H2 + "','size':2}]}";
    ImageManifest m = Json.readManifest(b(json), "m");
    assertThat(MediaTypes.layerCompression(m.layers().get(0).mediaType())).contains(MediaTypes.Compression.GZIP);
  }

  @Test
  void manifestErrorsNameTheBlob() {
    String unknownLayer = "{'schemaVersion':2,'config':{'mediaType':'application/vnd.oci.image.config.v1+json','digest':'sha256:" + H
        + "','size':1},'layers':[{'mediaType':'application/x-foo','digest':'sha256:" + H2 + "','size':2}]}";
    assertThatThrownBy(() -> Json.readManifest(b(unknownLayer), "manifest X"))
        .isInstanceOf(ImageException.class).hasMessageContaining("sha256:" + H2).hasMessageContaining("application/x-foo");
    String badDigest = "{'schemaVersion':2,'config':{'mediaType':'application/vnd.oci.image.config.v1+json','digest':'sha256:xyz','size':1}}";
    assertThatThrownBy(() -> Json.readManifest(b(badDigest), "manifest Y"))
        .isInstanceOf(ImageException.class).hasMessageContaining("manifest Y").hasMessageContaining("sha256:xyz");
    String noSize = "{'schemaVersion':2,'config':{'mediaType':'application/vnd.oci.image.config.v1+json','digest':'sha256:" + H + "'}}";
    assertThatThrownBy(() -> Json.readManifest(b(noSize), "m")).isInstanceOf(ImageException.class).hasMessageContaining("no size");
    assertThatThrownBy(() -> Json.readManifest(b("{'schemaVersion':1}"), "m")).isInstanceOf(ImageException.class);
    assertThatThrownBy(() -> Json.readManifest(b("not json"), "m")).isInstanceOf(ImageException.class).hasMessageContaining("not valid JSON");
    String unknownManifestType = "{'schemaVersion':2,'mediaType':'application/x-m','config':{'mediaType':'application/vnd.oci.image.config.v1+json','digest':'sha256:" + H + "','size':1}}";
    assertThatThrownBy(() -> Json.readManifest(b(unknownManifestType), "m")).isInstanceOf(ImageException.class).hasMessageContaining("application/x-m");
  }

  @Test
  void indexWithPlatforms() throws Exception {
    String json = "{'schemaVersion':2,'mediaType':'application/vnd.oci.image.index.v1+json','manifests':["
        + "{'mediaType':'application/vnd.oci.image.manifest.v1+json','digest':'sha256:" + H + "','size':1,"
        + "'platform':{'os':'linux','architecture':'arm64','variant':'v8'}}]}";
    ImageIndex i = Json.readIndex(b(json), "i");
    assertThat(i.manifests().get(0).platform()).contains(new Platform("linux", "arm64", "v8"));
    assertThat(Json.readIndex(Json.writeIndex(i), "again")).isEqualTo(i);
  }

  @Test
  void configRoundTripWithContainerConfig() throws Exception {
    String json = "{'architecture':'amd64','os':'linux','created':'2024-01-01T00:00:00Z',"
        + "'config':{'User':'app:app','ExposedPorts':{'80/tcp':{},'53/udp':{}},'Env':['PATH=/bin','A=b=c'],"
        + "'Entrypoint':['/docker-entrypoint.sh'],'Cmd':['nginx','-g','daemon off;'],'WorkingDir':'/srv',"
        + "'Labels':{'maintainer':'me'},'StopSignal':'SIGQUIT','Volumes':{'/data':{}},"
        + "'Healthcheck':{'Test':['CMD','curl','-f','http://localhost/'],'Interval':30000000000,'Timeout':5000000000,'Retries':3}},"
        + "'rootfs':{'type':'layers','diff_ids':['sha256:" + H + "','sha256:" + H2 + "']},'history':[{'created_by':'x'}]}";
    ImageConfig c = Json.readConfig(b(json), "c");
    ContainerConfig cc = c.config();
    assertThat(cc.user()).isEqualTo("app:app");
    assertThat(cc.exposedPorts()).containsExactlyInAnyOrder("80/tcp", "53/udp");
    assertThat(cc.env()).containsExactly("PATH=/bin", "A=b=c");
    assertThat(cc.entrypoint()).contains(List.of("/docker-entrypoint.sh"));
    assertThat(cc.cmd()).contains(List.of("nginx", "-g", "daemon off;"));
    assertThat(cc.workingDir()).isEqualTo("/srv");
    assertThat(cc.labels()).containsEntry("maintainer", "me");
    assertThat(cc.stopSignal()).isEqualTo("SIGQUIT");
    assertThat(cc.volumes()).containsExactly("/data");
    assertThat(cc.healthcheck().orElseThrow().interval()).isEqualTo(Duration.ofSeconds(30));
    assertThat(cc.healthcheck().orElseThrow().retries()).isEqualTo(3);
    assertThat(c.diffIds()).containsExactly(Digest.parse("sha256:" + H), Digest.parse("sha256:" + H2));
    assertThat(Json.readConfig(Json.writeConfig(c), "again")).isEqualTo(c);
  }

  @Test
  void configDistinguishesAbsentFromEmptyCmd() throws Exception {
    ImageConfig absent = Json.readConfig(b("{'architecture':'amd64','os':'linux','rootfs':{'type':'layers','diff_ids':[]}}"), "c");
    ImageConfig empty = Json.readConfig(b("{'architecture':'amd64','os':'linux','config':{'Cmd':[]},'rootfs':{'type':'layers','diff_ids':[]}}"), "c");
    assertThat(absent.config().cmd()).isEmpty();
    assertThat(empty.config().cmd()).contains(List.of());
  }

  @Test
  void configValidation() {
    assertThatThrownBy(() -> Json.readConfig(b("{'architecture':'amd64','os':'linux','rootfs':{'type':'other'}}"), "config Z"))
        .isInstanceOf(ImageException.class).hasMessageContaining("config Z").hasMessageContaining("rootfs.type");
    assertThatThrownBy(() -> Json.readConfig(b("{'architecture':'amd64','os':'linux','rootfs':{'type':'layers','diff_ids':['sha256:1']}}"), "c"))
        .isInstanceOf(ImageException.class).hasMessageContaining("sha256:1");
    assertThatThrownBy(() -> Json.readConfig(b("{'architecture':'amd64','os':'linux','config':{'Env':['NOEQUALS']},'rootfs':{'type':'layers'}}"), "c"))
        .isInstanceOf(ImageException.class).hasMessageContaining("NOEQUALS");
  }

  @Test
  void referenceGrammar() {
    assertThat(ImageReference.parse("busybox")).isEqualTo(new ImageReference("busybox", "latest"));
    assertThat(ImageReference.parse("localhost:5000/a/b:1.2-x_y")).isEqualTo(new ImageReference("localhost:5000/a/b", "1.2-x_y"));
    assertThat(ImageReference.parse("Example.COM/ns/app:v1").name()).isEqualTo("Example.COM/ns/app");
    assertThat(ImageReference.parse("a__b/c.d-e:t").toString()).isEqualTo("a__b/c.d-e:t");
    for (String bad : List.of("", "UPPER", "a:", ":t", "a/:t", "a//b", "-a", "a:" + "t".repeat(129), "a@sha256:" + H, "a:.t", "a b")) {
      assertThatThrownBy(() -> ImageReference.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void platformMapping() {
    assertThat(Platform.ociArchitecture("x86_64")).isEqualTo("amd64");
    assertThat(Platform.ociArchitecture("aarch64")).isEqualTo("arm64");
    assertThat(Platform.host().os()).isEqualTo("linux");
  }

  @Test
  void processDefaultsDockerSemantics() {
    ContainerConfig cc = new ContainerConfig("1000:1000", null, List.of("A=1"), Optional.of(List.of("/entry")),
        Optional.of(List.of("arg")), null, "/app", null, "SIGINT", null);
    ImageConfig img = new ImageConfig("amd64", "linux", null, null, cc, List.of());
    ProcessDefaults d = ProcessDefaults.resolve(img, Optional.empty(), Optional.empty());
    assertThat(d.argv()).containsExactly("/entry", "arg");
    assertThat(d.env()).containsExactly(ProcessDefaults.DEFAULT_PATH, "A=1");
    assertThat(d.workingDir()).isEqualTo("/app");
    assertThat(d.user()).isEqualTo("1000:1000");
    assertThat(d.stopSignal()).isEqualTo("SIGINT");
    // cmd override keeps the entrypoint
    assertThat(ProcessDefaults.resolve(img, Optional.empty(), Optional.of(List.of("x", "y"))).argv()).containsExactly("/entry", "x", "y");
    // entrypoint override resets the image cmd
    assertThat(ProcessDefaults.resolve(img, Optional.of(List.of("/bin/sh")), Optional.empty()).argv()).containsExactly("/bin/sh");
    assertThat(ProcessDefaults.resolve(img, Optional.of(List.of("/bin/sh")), Optional.of(List.of("-c", "ls"))).argv())
        .containsExactly("/bin/sh", "-c", "ls");
    // an empty entrypoint override clears the entrypoint, keeping an explicit cmd
    assertThat(ProcessDefaults.resolve(img, Optional.of(List.of()), Optional.of(List.of("ls"))).argv()).containsExactly("ls");
    assertThatThrownBy(() -> ProcessDefaults.resolve(img, Optional.of(List.of()), Optional.empty()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no command");
  }

  @Test
  void processDefaultsDefaultsAndEnvMerge() {
    ImageConfig img = new ImageConfig("amd64", "linux", null, null,
        new ContainerConfig(null, null, List.of("PATH=/x"), null, Optional.of(List.of("sh")), null, null, null, null, null), List.of());
    ProcessDefaults d = ProcessDefaults.resolve(img, Optional.empty(), Optional.empty());
    assertThat(d.env()).containsExactly("PATH=/x");
    assertThat(d.workingDir()).isEqualTo("/");
    assertThat(d.user()).isEmpty();
    assertThat(d.stopSignal()).isEqualTo("SIGTERM");
    assertThat(ProcessDefaults.mergeEnv(List.of("A=1", "B=2"), List.of("B=3", "C=4"))).containsExactly("A=1", "B=3", "C=4");
  }

  @Test
  void descriptorValidation() {
    assertThatThrownBy(() -> new Descriptor("", Digest.sha256Of("x"), 1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Descriptor("a/b", Digest.sha256Of("x"), -1)).hasMessageContaining("negative size");
  }
}
