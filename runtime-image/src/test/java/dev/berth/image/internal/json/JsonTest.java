package dev.berth.image.internal.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.image.ContainerConfig;
import dev.berth.image.Descriptor;
import dev.berth.image.Digest;
import dev.berth.image.Fixtures;
import dev.berth.image.Healthcheck;
import dev.berth.image.ImageConfig;
import dev.berth.image.ImageException;
import dev.berth.image.ImageIndex;
import dev.berth.image.ImageManifest;
import dev.berth.image.MediaTypes;
import dev.berth.image.Platform;
import dev.berth.image.internal.json.Dtos.DockerArchiveEntryJson;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The jackson-core reader and writer: strictness on read, byte-exact deterministic output on write. */
class JsonTest {
  static final String H = "a".repeat(64);
  static final String H2 = "b".repeat(64);
  static final String CONFIG_DESC =
      "'config':{'mediaType':'application/vnd.oci.image.config.v1+json','digest':'sha256:" + H + "','size':1}";
  static final String LAYER =
      "{'mediaType':'application/vnd.oci.image.layer.v1.tar+gzip','digest':'sha256:" + H2 + "','size':2}";
  static final String ROOTFS = "'rootfs':{'type':'layers','diff_ids':['sha256:" + H + "']}";

  static byte[] b(String s) {
    return Fixtures.json(s).getBytes(StandardCharsets.UTF_8);
  }

  static String manifest(String extra) {
    return "{'schemaVersion':2," + CONFIG_DESC + ",'layers':[" + LAYER + "]" + extra + "}";
  }

  static String config(String extra) {
    return "{'architecture':'amd64','os':'linux'," + ROOTFS + extra + "}";
  }

  // ---- reading: duplicates, types, depth, syntax

  @Test
  void duplicateKeysAreRejectedNamingDocumentAndKey() throws Exception {
    assertThatThrownBy(() -> Json.readManifest(b(manifest(",'schemaVersion':2")), "manifest D"))
        .isInstanceOf(ImageException.class)
        .hasMessage("manifest D: duplicate key `schemaVersion`");
    String dupSize = "{'schemaVersion':2," + CONFIG_DESC + ",'layers':[" + LAYER + ","
        + "{'mediaType':'application/vnd.oci.image.layer.v1.tar+gzip','digest':'sha256:" + H2 + "','size':2,'size':9}]}";
    assertThatThrownBy(() -> Json.readManifest(b(dupSize), "manifest D"))
        .isInstanceOf(ImageException.class)
        .hasMessage("manifest D: duplicate key `layers[1].size`");
    assertThatThrownBy(() -> Json.readConfig(b(config(",'config':{'Env':['A=1'],'Env':['A=2']}")), "config D"))
        .isInstanceOf(ImageException.class)
        .hasMessage("config D: duplicate key `config.Env`");
    // Also inside content nobody reads: another parser might read that content.
    assertThatThrownBy(() -> Json.readConfig(b(config(",'history':[{'x':1,'x':2}]")), "config D"))
        .isInstanceOf(ImageException.class)
        .hasMessage("config D: duplicate key `history[0].x`");
    assertThatThrownBy(() -> Json.readDockerArchiveManifest(b("[{'Config':'a.json','Config':'b.json'}]"), "archive"))
        .isInstanceOf(ImageException.class)
        .hasMessage("archive: duplicate key `[0].Config`");
    // The same name in sibling objects is not a duplicate.
    assertThat(Json.readManifest(b(manifest(",'annotations':{'size':'x'}")), "m").annotations()).containsEntry("size", "x");
  }

  @Test
  void wrongJsonTypeNamesTheField() {
    String sizeAsString = "{'schemaVersion':2,'config':{'mediaType':'application/vnd.oci.image.config.v1+json','digest':'sha256:"
        + H + "','size':'12'}}";
    assertThatThrownBy(() -> Json.readManifest(b(sizeAsString), "manifest T"))
        .isInstanceOf(ImageException.class)
        .hasMessage("manifest T: field `config.size` must be a number, not a string");
    assertThatThrownBy(() -> Json.readManifest(b("{'schemaVersion':'2'," + CONFIG_DESC + "}"), "manifest T"))
        .hasMessage("manifest T: field `schemaVersion` must be a number, not a string");
    assertThatThrownBy(() -> Json.readManifest(b(manifest(",'annotations':{'k':1}")), "manifest T"))
        .hasMessage("manifest T: field `annotations.k` must be a string, not a number");
    assertThatThrownBy(() -> Json.readManifest(b("{'schemaVersion':2," + CONFIG_DESC + ",'layers':{}}"), "manifest T"))
        .hasMessage("manifest T: field `layers` must be an array, not an object");
    assertThatThrownBy(() -> Json.readManifest(b("{'schemaVersion':2," + CONFIG_DESC + ",'layers':[" + LAYER + ",7]}"), "manifest T"))
        .hasMessage("manifest T: field `layers[1]` must be an object, not a number");
    String platformString = "{'schemaVersion':2,'manifests':[{'mediaType':'application/vnd.oci.image.manifest.v1+json',"
        + "'digest':'sha256:" + H + "','size':1,'platform':'linux'}]}";
    assertThatThrownBy(() -> Json.readIndex(b(platformString), "index T"))
        .hasMessage("index T: field `manifests[0].platform` must be an object, not a string");
    assertThatThrownBy(() -> Json.readConfig(b(config(",'config':{'Env':['A=1',null]}")), "config T"))
        .hasMessage("config T: field `config.Env[1]` must be a string, not null");
    assertThatThrownBy(() -> Json.readConfig(b(config(",'config':{'Healthcheck':{'Interval':'30s'}}")), "config T"))
        .hasMessage("config T: field `config.Healthcheck.Interval` must be a number, not a string");
    assertThatThrownBy(() -> Json.readConfig(b(config(",'created':true")), "config T"))
        .hasMessage("config T: field `created` must be a string, not a boolean");
    assertThatThrownBy(() -> Json.readOciLayout(b("{'imageLayoutVersion':1}"), "oci-layout T"))
        .hasMessage("oci-layout T: field `imageLayoutVersion` must be a string, not a number");
    assertThatThrownBy(() -> Json.readDockerArchiveManifest(b("[{'RepoTags':'a:1'}]"), "archive T"))
        .hasMessage("archive T: field `[0].RepoTags` must be an array, not a string");
    assertThatThrownBy(() -> Json.readDockerArchiveManifest(b("[null]"), "archive T"))
        .hasMessage("archive T: field `[0]` must be an object, not null");
  }

  @Test
  void sizesAreNonNegativeIntegersWithoutCoercion() throws Exception {
    for (String size : List.of("1.5", "1.0", "1e3")) {
      String json = "{'schemaVersion':2,'config':{'mediaType':'application/vnd.oci.image.config.v1+json','digest':'sha256:"
          + H + "','size':" + size + "}}";
      assertThatThrownBy(() -> Json.readManifest(b(json), "manifest S")).as(size)
          .isInstanceOf(ImageException.class)
          .hasMessageStartingWith("manifest S: field `config.size` must be an integer");
    }
    String tooBig = "{'schemaVersion':2,'config':{'mediaType':'application/vnd.oci.image.config.v1+json','digest':'sha256:"
        + H + "','size':9223372036854775808}}";
    assertThatThrownBy(() -> Json.readManifest(b(tooBig), "manifest S"))
        .hasMessage("manifest S: field `config.size` is out of range: 9223372036854775808");
    // A negative size is the Descriptor's own check, reported as before.
    String negative = "{'schemaVersion':2,'config':{'mediaType':'application/vnd.oci.image.config.v1+json','digest':'sha256:"
        + H + "','size':-1}}";
    assertThatThrownBy(() -> Json.readManifest(b(negative), "manifest S"))
        .hasMessage("manifest S config: descriptor sha256:" + H + " has a negative size -1");
    assertThatThrownBy(() -> Json.readManifest(b("{'schemaVersion':4294967298," + CONFIG_DESC + "}"), "manifest S"))
        .hasMessage("manifest S: field `schemaVersion` is out of range: 4294967298");
    String big = "{'schemaVersion':2,'config':{'mediaType':'application/vnd.oci.image.config.v1+json','digest':'sha256:"
        + H + "','size':9223372036854775807}}";
    assertThat(assertRead(big).config().size()).isEqualTo(Long.MAX_VALUE);
  }

  private static ImageManifest assertRead(String json) throws ImageException {
    return Json.readManifest(b(json), "m");
  }

  @Test
  void nestingIsLimitedTo64Levels() throws Exception {
    // The root object is level 1, so 63 arrays inside it reach exactly the limit.
    String at = config(",'history':" + "[".repeat(63) + "]".repeat(63));
    assertThat(Json.readConfig(b(at), "config N").os()).isEqualTo("linux");
    String over = config(",'history':" + "[".repeat(64) + "]".repeat(64));
    assertThatThrownBy(() -> Json.readConfig(b(over), "config N"))
        .isInstanceOf(ImageException.class)
        .hasMessage("config N: objects and arrays nest deeper than 64 levels");
    assertThat(JsonTree.parse(b("[".repeat(JsonTree.MAX_DEPTH) + "]".repeat(JsonTree.MAX_DEPTH)), "t")).isInstanceOf(List.class);
    String deepObjects = "{'a':".repeat(JsonTree.MAX_DEPTH + 1) + "1" + "}".repeat(JsonTree.MAX_DEPTH + 1);
    assertThatThrownBy(() -> JsonTree.parse(b(deepObjects), "doc")).hasMessageContaining("deeper than 64");
    // Far deeper than the limit: rejected at the limit, without exhausting the stack.
    String hostile = "[".repeat(100_000);
    assertThatThrownBy(() -> JsonTree.parse(b(hostile), "doc")).hasMessageContaining("deeper than 64");
  }

  @Test
  void malformedDocumentsAreNotValidJson() {
    String valid = manifest("");
    for (String bad : List.of(valid.substring(0, valid.length() / 2), valid.substring(0, valid.length() - 1), "not json", "",
        "   ", "{'schemaVersion':2,}", "{'schemaVersion':2 /* c */}", valid + "{}", valid + " trailing")) {
      assertThatThrownBy(() -> Json.readManifest(b(bad), "manifest J")).as(bad)
          .isInstanceOf(ImageException.class)
          .hasMessageStartingWith("manifest J is not valid JSON: ");
    }
    assertThatThrownBy(() -> Json.readIndex(b("{'schemaVersion':2"), "index.json"))
        .hasMessageStartingWith("index.json is not valid JSON: ");
    assertThatThrownBy(() -> Json.readDockerArchiveManifest(b("[{'Config':'x'"), "archive"))
        .hasMessageStartingWith("archive is not valid JSON: ");
  }

  @Test
  void documentShapeAndEmptiness() throws Exception {
    assertThatThrownBy(() -> Json.readManifest(b("null"), "manifest E")).hasMessage("manifest E is empty");
    assertThatThrownBy(() -> Json.readManifest(b("[]"), "manifest E"))
        .hasMessage("manifest E: the document must be an object, not an array");
    assertThatThrownBy(() -> Json.readDockerArchiveManifest(b("[]"), "archive E")).hasMessage("archive E lists no image");
    assertThatThrownBy(() -> Json.readDockerArchiveManifest(b("null"), "archive E")).hasMessage("archive E lists no image");
    assertThatThrownBy(() -> Json.readDockerArchiveManifest(b("{}"), "archive E"))
        .hasMessage("archive E: the document must be an array, not an object");
    assertThatThrownBy(() -> Json.readOciLayout(b("{'imageLayoutVersion':'2.0.0'}"), "oci-layout E"))
        .hasMessage("oci-layout E: unsupported imageLayoutVersion `2.0.0`");
    assertThatThrownBy(() -> Json.readOciLayout(b("{}"), "oci-layout E"))
        .hasMessage("oci-layout E: unsupported imageLayoutVersion `null`");
    Json.readOciLayout(b("{'imageLayoutVersion':'1.0.0'}\n"), "oci-layout E");
  }

  @Test
  void unknownFieldsAndNullsAreIgnored() throws Exception {
    ImageManifest m = Json.readManifest(b(manifest(",'annotations':null,'mediaType':null,"
        + "'x-unknown':{'f':1.5,'big':123456789012345678901234567890,'t':true,'n':null,'a':[{},[]]}")), "m");
    assertThat(m.mediaType()).isEqualTo(MediaTypes.OCI_MANIFEST);
    assertThat(m.annotations()).isEmpty();
    assertThat(m.layers()).hasSize(1);
    ImageConfig c = Json.readConfig(b(config(",'config':{'Entrypoint':null,'Cmd':[],'ExposedPorts':{'80/tcp':{},'53/udp':null}},"
        + "'history':[{'created_by':'x','empty_layer':true}],'author':'me'")), "c");
    assertThat(c.config().entrypoint()).isEmpty();
    assertThat(c.config().cmd()).contains(List.of());
    assertThat(c.config().exposedPorts()).containsExactlyInAnyOrder("80/tcp", "53/udp");
  }

  @Test
  void dockerArchiveManifestEntries() throws Exception {
    List<DockerArchiveEntryJson> l = Json.readDockerArchiveManifest(
        b("[{'Config':'c.json','RepoTags':['a:1','b:2'],'Layers':['x/layer.tar'],'LayerSources':{}},{}]"), "archive");
    assertThat(l).hasSize(2);
    assertThat(l.get(0).config).isEqualTo("c.json");
    assertThat(l.get(0).repoTags).containsExactly("a:1", "b:2");
    assertThat(l.get(0).layers).containsExactly("x/layer.tar");
    assertThat(l.get(1).config).isNull();
    assertThat(l.get(1).repoTags).isNull();
    assertThat(l.get(1).layers).isNull();
  }

  // ---- writing: round trips, order, determinism

  static ImageIndex index() {
    Map<String, String> ann = new LinkedHashMap<>();
    ann.put("z", "last");
    ann.put(Descriptor.REF_NAME, "t");
    ann.put("a", "quote\" back\\ nl\n ctl\u0001 é 中");
    return new ImageIndex(2, null, List.of(
        new Descriptor(MediaTypes.OCI_MANIFEST, Digest.parse("sha256:" + H), 510),
        new Descriptor(MediaTypes.OCI_MANIFEST, Digest.parse("sha512:" + "c".repeat(128)), 0, ann,
            Optional.of(new Platform("linux", "arm64", "v8"))),
        new Descriptor(MediaTypes.DOCKER_MANIFEST, Digest.parse("sha256:" + H2), 7, Map.of(),
            Optional.of(new Platform("linux", "amd64", "")))), ann);
  }

  static ImageManifest manifestRecord(Map<String, String> annotations) {
    Descriptor cfg = new Descriptor(MediaTypes.OCI_CONFIG, Digest.parse("sha256:" + H), 7023);
    Descriptor l1 = new Descriptor(MediaTypes.OCI_LAYER_GZIP, Digest.parse("sha256:" + H2), 32654, Map.of("k", "v", "b", "x"),
        Optional.empty());
    Descriptor l2 = new Descriptor(MediaTypes.OCI_LAYER_ZSTD, Digest.parse("sha256:" + H), 1);
    return new ImageManifest(2, null, cfg, List.of(l1, l2), annotations);
  }

  static ImageConfig configRecord() {
    Healthcheck hc = new Healthcheck(List.of("CMD", "curl"), Duration.ofSeconds(30), Duration.ofSeconds(5), null, 3);
    ContainerConfig cc = new ContainerConfig("app", Set.of("80/tcp", "53/udp", "443/tcp"), List.of("PATH=/bin", "A=é"),
        Optional.of(List.of()), Optional.of(List.of("nginx", "-g")), Set.of("/z", "/data"), "/srv",
        Map.of("m", "me", "a", "b", "Z", "up"), "SIGQUIT", Optional.of(hc));
    return new ImageConfig("amd64", "linux", "v2", Optional.of("2024-01-01T00:00:00Z"), cc,
        List.of(Digest.parse("sha256:" + H), Digest.parse("sha256:" + H2)));
  }

  @Test
  void roundTripsAreEqual() throws Exception {
    ImageManifest m = manifestRecord(Map.of("x", "1", "a", "2"));
    assertThat(Json.readManifest(Json.writeManifest(m), "again")).isEqualTo(m);
    ImageConfig c = configRecord();
    assertThat(Json.readConfig(Json.writeConfig(c), "again")).isEqualTo(c);
    ImageConfig bare = new ImageConfig("arm64", "linux", null, null, null, null);
    assertThat(Json.readConfig(Json.writeConfig(bare), "again")).isEqualTo(bare);
    ImageIndex i = index();
    assertThat(Json.readIndex(Json.writeIndex(i), "again")).isEqualTo(i);
  }

  @Test
  void writtenBytesAreDeterministicAndOrdered() {
    // Byte-exact: what the databind DTOs wrote (declaration order, nulls and empties left out, map
    // keys sorted); a docker-archive import names its manifest by the digest of these bytes.
    Map<String, String> forward = new LinkedHashMap<>();
    forward.put("a", "2");
    forward.put("x", "1");
    Map<String, String> backward = new LinkedHashMap<>();
    backward.put("x", "1");
    backward.put("a", "2");
    byte[] m = Json.writeManifest(manifestRecord(forward));
    assertThat(Json.writeManifest(manifestRecord(backward))).isEqualTo(m);
    assertThat(new String(m, StandardCharsets.UTF_8)).isEqualTo(Fixtures.json("{'schemaVersion':2,"
        + "'mediaType':'application/vnd.oci.image.manifest.v1+json',"
        + "'config':{'mediaType':'application/vnd.oci.image.config.v1+json','digest':'sha256:" + H + "','size':7023},"
        + "'layers':[{'mediaType':'application/vnd.oci.image.layer.v1.tar+gzip','digest':'sha256:" + H2 + "','size':32654,"
        + "'annotations':{'b':'x','k':'v'}},"
        + "{'mediaType':'application/vnd.oci.image.layer.v1.tar+zstd','digest':'sha256:" + H + "','size':1}],"
        + "'annotations':{'a':'2','x':'1'}}"));

    byte[] c = Json.writeConfig(configRecord());
    assertThat(Json.writeConfig(configRecord())).isEqualTo(c);
    assertThat(new String(c, StandardCharsets.UTF_8)).isEqualTo(Fixtures.json("{'created':'2024-01-01T00:00:00Z',"
        + "'architecture':'amd64','os':'linux','variant':'v2',"
        + "'config':{'User':'app','ExposedPorts':{'443/tcp':{},'53/udp':{},'80/tcp':{}},'Env':['PATH=/bin','A=é'],"
        + "'Entrypoint':[],'Cmd':['nginx','-g'],'Volumes':{'/data':{},'/z':{}},'WorkingDir':'/srv',"
        + "'Labels':{'Z':'up','a':'b','m':'me'},'StopSignal':'SIGQUIT',"
        + "'Healthcheck':{'Test':['CMD','curl'],'Interval':30000000000,'Timeout':5000000000,'StartPeriod':0,'Retries':3}},"
        + "'rootfs':{'type':'layers','diff_ids':['sha256:" + H + "','sha256:" + H2 + "']}}"));
    assertThat(new String(Json.writeConfig(new ImageConfig("amd64", "linux", null, null, null, null)), StandardCharsets.UTF_8))
        .isEqualTo(Fixtures.json("{'architecture':'amd64','os':'linux','config':{},'rootfs':{'type':'layers','diff_ids':[]}}"));

    byte[] i = Json.writeIndex(index());
    assertThat(Json.writeIndex(index())).isEqualTo(i);
    assertThat(new String(i, StandardCharsets.UTF_8)).isEqualTo("{\"schemaVersion\":2,"
        + "\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":["
        + "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:" + H + "\",\"size\":510},"
        + "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha512:" + "c".repeat(128) + "\",\"size\":0,"
        + "\"annotations\":{\"a\":\"quote\\\" back\\\\ nl\\n ctl\\u0001 é 中\",\"org.opencontainers.image.ref.name\":\"t\",\"z\":\"last\"},"
        + "\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\",\"variant\":\"v8\"}},"
        + "{\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"digest\":\"sha256:" + H2 + "\",\"size\":7,"
        + "\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}],"
        + "\"annotations\":{\"a\":\"quote\\\" back\\\\ nl\\n ctl\\u0001 é 中\",\"org.opencontainers.image.ref.name\":\"t\",\"z\":\"last\"}}");
    assertThat(new String(Json.writeIndex(new ImageIndex(2, null, List.of(), null)), StandardCharsets.UTF_8))
        .isEqualTo("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[]}");
  }
}
