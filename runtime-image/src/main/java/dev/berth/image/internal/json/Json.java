package dev.berth.image.internal.json;

import dev.berth.image.ContainerConfig;
import dev.berth.image.Descriptor;
import dev.berth.image.Digest;
import dev.berth.image.Healthcheck;
import dev.berth.image.ImageConfig;
import dev.berth.image.ImageException;
import dev.berth.image.ImageIndex;
import dev.berth.image.ImageManifest;
import dev.berth.image.Platform;
import dev.berth.image.internal.json.Dtos.DockerArchiveEntryJson;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The translation between the OCI / Docker JSON documents and the domain records, on jackson-core
 * alone: {@link JsonTree} parses, {@link JsonFields} reads typed fields, {@link JsonWriter} writes.
 * Databind is not used because its cold start (about half a second) sat on every image import and
 * every {@code berth run}.
 *
 * <p>Every error names the document ({@code what}) and, for a wrongly typed field, its path. Fields
 * the OCI spec defines but the store does not use are still type-checked, as the DTOs did.
 */
public final class Json {
  private Json() {}

  // ---- descriptors

  /**
   * A descriptor; errors start with {@code what + role} (role is "", " config" or " layer"), joined
   * only on failure to keep string concatenation off the success path.
   */
  private static Descriptor descriptor(JsonFields d, String what, String role) throws ImageException {
    if (d == null) {
      throw new ImageException(what + role + ": missing descriptor");
    }
    String mediaType = d.string("mediaType");
    String digestText = d.string("digest");
    Long size = d.int64("size");
    Map<String, String> annotations = d.stringMap("annotations");
    Optional<Platform> platform = platform(d.object("platform"));
    d.strings("urls");
    d.string("artifactType");
    Digest digest;
    try {
      digest = Digest.parse(digestText);
    } catch (IllegalArgumentException e) {
      throw new ImageException(what + role + ": " + e.getMessage(), e);
    }
    if (mediaType == null || mediaType.isEmpty()) {
      throw new ImageException(what + role + ": blob " + digest + " has no media type");
    }
    if (size == null) {
      throw new ImageException(what + role + ": blob " + digest + " has no size");
    }
    try {
      // Descriptor rejects a negative size.
      return new Descriptor(mediaType, digest, size, annotations, platform);
    } catch (IllegalArgumentException e) {
      throw new ImageException(what + role + ": " + e.getMessage(), e);
    }
  }

  private static Optional<Platform> platform(JsonFields p) throws ImageException {
    if (p == null) {
      return Optional.empty();
    }
    String os = p.string("os");
    String architecture = p.string("architecture");
    String variant = p.string("variant");
    p.string("os.version");
    p.strings("os.features");
    return Optional.of(new Platform(nz(os), nz(architecture), variant));
  }

  private static void descriptor(JsonWriter w, Descriptor d) throws IOException {
    w.startObject();
    descriptorFields(w, d);
    w.endObject();
  }

  /** Fields: mediaType, digest, size, annotations (omitted when empty), platform (when present). */
  private static void descriptorFields(JsonWriter w, Descriptor d) throws IOException {
    w.string("mediaType", d.mediaType());
    w.string("digest", d.digest().toString());
    w.number("size", d.size());
    w.stringMap("annotations", d.annotations().isEmpty() ? null : d.annotations());
    if (d.platform().isPresent()) {
      Platform p = d.platform().get();
      w.startObject("platform");
      w.string("os", p.os());
      w.string("architecture", p.architecture());
      w.string("variant", p.variant().isEmpty() ? null : p.variant());
      w.endObject();
    }
  }

  private static String nz(String s) {
    return s == null ? "" : s;
  }

  // ---- small documents (registry answers, auth files)

  /**
   * A JSON object as plain values ({@code Map}, {@code List}, {@code String}, {@code Long}, {@code
   * Boolean}, {@code null}), with duplicate keys refused and nesting bounded: for small documents
   * that are not image blobs (registry error bodies and tokens, auth.json, credential helpers).
   */
  @SuppressWarnings("unchecked")
  public static Map<String, Object> readObject(byte[] bytes, String what) throws ImageException {
    Object root = JsonTree.parse(bytes, what);
    if (!(root instanceof Map)) {
      throw new ImageException(what + ": the document must be an object");
    }
    return (Map<String, Object>) root;
  }

  // ---- index

  public static ImageIndex readIndex(byte[] bytes, String what) throws ImageException {
    JsonFields j = JsonFields.document(JsonTree.parse(bytes, what), what);
    Integer schemaVersion = j.int32("schemaVersion");
    String mediaType = j.string("mediaType");
    List<JsonFields> manifests = j.objects("manifests");
    Map<String, String> annotations = j.stringMap("annotations");
    List<Descriptor> ms = new ArrayList<>();
    if (manifests != null) {
      for (JsonFields d : manifests) {
        ms.add(descriptor(d, what, ""));
      }
    }
    try {
      return new ImageIndex(schemaVersion == null ? 0 : schemaVersion, mediaType, ms, annotations);
    } catch (IllegalArgumentException e) {
      throw new ImageException(what + ": " + e.getMessage(), e);
    }
  }

  /** Fields: schemaVersion, mediaType, manifests, annotations (omitted when empty). */
  public static byte[] writeIndex(ImageIndex index) {
    return JsonWriter.document(
        w -> {
          w.startObject();
          w.number("schemaVersion", index.schemaVersion());
          w.string("mediaType", index.mediaType());
          w.startArray("manifests");
          for (Descriptor d : index.manifests()) {
            descriptor(w, d);
          }
          w.endArray();
          w.stringMap("annotations", index.annotations().isEmpty() ? null : index.annotations());
          w.endObject();
        });
  }

  // ---- manifest

  public static ImageManifest readManifest(byte[] bytes, String what) throws ImageException {
    JsonFields j = JsonFields.document(JsonTree.parse(bytes, what), what);
    Integer schemaVersion = j.int32("schemaVersion");
    String mediaType = j.string("mediaType");
    j.string("artifactType");
    JsonFields configJson = j.object("config");
    List<JsonFields> layersJson = j.objects("layers");
    Map<String, String> annotations = j.stringMap("annotations");
    Descriptor config = descriptor(configJson, what, " config");
    List<Descriptor> layers = new ArrayList<>();
    if (layersJson != null) {
      for (JsonFields d : layersJson) {
        layers.add(descriptor(d, what, " layer"));
      }
    }
    try {
      return new ImageManifest(schemaVersion == null ? 0 : schemaVersion, mediaType, config, layers, annotations);
    } catch (IllegalArgumentException e) {
      throw new ImageException(what + ": " + e.getMessage(), e);
    }
  }

  /** Fields: schemaVersion, mediaType, config, layers, annotations (omitted when empty). */
  public static byte[] writeManifest(ImageManifest m) {
    return JsonWriter.document(
        w -> {
          w.startObject();
          w.number("schemaVersion", m.schemaVersion());
          w.string("mediaType", m.mediaType());
          w.startObject("config");
          descriptorFields(w, m.config());
          w.endObject();
          w.startArray("layers");
          for (Descriptor d : m.layers()) {
            descriptor(w, d);
          }
          w.endArray();
          w.stringMap("annotations", m.annotations().isEmpty() ? null : m.annotations());
          w.endObject();
        });
  }

  // ---- config

  public static ImageConfig readConfig(byte[] bytes, String what) throws ImageException {
    JsonFields j = JsonFields.document(JsonTree.parse(bytes, what), what);
    String created = j.string("created");
    j.string("author");
    String architecture = j.string("architecture");
    String os = j.string("os");
    String variant = j.string("variant");
    JsonFields config = j.object("config");
    JsonFields rootfs = j.object("rootfs");
    String rootfsType = rootfs == null ? null : rootfs.string("type");
    List<String> diffIdTexts = rootfs == null ? null : rootfs.strings("diff_ids");
    // history is free-form (databind read it as a JsonNode): any JSON value is accepted.
    if (architecture == null || os == null) {
      throw new ImageException(what + ": image config lacks architecture or os");
    }
    if (!"layers".equals(rootfsType)) {
      throw new ImageException(what + ": image config rootfs.type must be `layers`");
    }
    List<Digest> diffIds = new ArrayList<>();
    for (String s : diffIdTexts == null ? List.<String>of() : diffIdTexts) {
      try {
        diffIds.add(Digest.parse(s));
      } catch (IllegalArgumentException e) {
        throw new ImageException(what + ": rootfs.diff_ids: " + e.getMessage(), e);
      }
    }
    try {
      return new ImageConfig(
          architecture, os, variant, Optional.ofNullable(created), containerConfig(config), diffIds);
    } catch (IllegalArgumentException e) {
      throw new ImageException(what + ": " + e.getMessage(), e);
    }
  }

  private static ContainerConfig containerConfig(JsonFields c) throws ImageException {
    if (c == null) {
      return ContainerConfig.EMPTY;
    }
    Optional<Healthcheck> hc = Optional.empty();
    JsonFields h = c.object("Healthcheck");
    if (h != null) {
      List<String> test = h.strings("Test");
      Long interval = h.int64("Interval");
      Long timeout = h.int64("Timeout");
      Long startPeriod = h.int64("StartPeriod");
      Integer retries = h.int32("Retries");
      hc =
          Optional.of(
              new Healthcheck(
                  test,
                  Duration.ofNanos(interval == null ? 0 : interval),
                  Duration.ofNanos(timeout == null ? 0 : timeout),
                  Duration.ofNanos(startPeriod == null ? 0 : startPeriod),
                  retries == null ? 0 : retries));
    }
    return new ContainerConfig(
        c.string("User"),
        c.keys("ExposedPorts"),
        c.strings("Env"),
        Optional.ofNullable(c.strings("Entrypoint")),
        Optional.ofNullable(c.strings("Cmd")),
        c.keys("Volumes"),
        c.string("WorkingDir"),
        c.stringMap("Labels"),
        c.string("StopSignal"),
        hc);
  }

  /**
   * Serialises a config (used for round trips and for tests; imported configs keep their bytes).
   * Fields: created, architecture, os, variant, config, rootfs; empty strings, lists and maps of the
   * container config are omitted, but an empty {@code config} object and {@code diff_ids} are not.
   */
  public static byte[] writeConfig(ImageConfig cfg) {
    return JsonWriter.document(
        w -> {
          w.startObject();
          w.string("created", cfg.created().orElse(null));
          w.string("architecture", cfg.architecture());
          w.string("os", cfg.os());
          w.string("variant", cfg.variant().isEmpty() ? null : cfg.variant());
          ContainerConfig c = cfg.config();
          w.startObject("config");
          w.string("User", c.user().isEmpty() ? null : c.user());
          w.keySet("ExposedPorts", c.exposedPorts().isEmpty() ? null : c.exposedPorts());
          w.strings("Env", c.env().isEmpty() ? null : c.env());
          w.strings("Entrypoint", c.entrypoint().orElse(null));
          w.strings("Cmd", c.cmd().orElse(null));
          w.keySet("Volumes", c.volumes().isEmpty() ? null : c.volumes());
          w.string("WorkingDir", c.workingDir().isEmpty() ? null : c.workingDir());
          w.stringMap("Labels", c.labels().isEmpty() ? null : c.labels());
          w.string("StopSignal", c.stopSignal().isEmpty() ? null : c.stopSignal());
          if (c.healthcheck().isPresent()) {
            Healthcheck h = c.healthcheck().get();
            w.startObject("Healthcheck");
            w.strings("Test", h.test());
            w.number("Interval", h.interval().toNanos());
            w.number("Timeout", h.timeout().toNanos());
            w.number("StartPeriod", h.startPeriod().toNanos());
            w.number("Retries", h.retries());
            w.endObject();
          }
          w.endObject();
          w.startObject("rootfs");
          w.string("type", "layers");
          w.strings("diff_ids", cfg.diffIds().stream().map(Digest::toString).toList());
          w.endObject();
          w.endObject();
        });
  }

  // ---- layout and docker archive

  public static void readOciLayout(byte[] bytes, String what) throws ImageException {
    JsonFields j = JsonFields.document(JsonTree.parse(bytes, what), what);
    String version = j.string("imageLayoutVersion");
    if (version == null || !version.startsWith("1.")) {
      throw new ImageException(what + ": unsupported imageLayoutVersion `" + version + "`");
    }
  }

  /** The entries of a {@code docker save} manifest.json: an array of objects, at least one. */
  public static List<DockerArchiveEntryJson> readDockerArchiveManifest(byte[] bytes, String what)
      throws ImageException {
    List<JsonFields> entries = JsonFields.arrayDocument(JsonTree.parse(bytes, what), what);
    if (entries == null || entries.isEmpty()) {
      throw new ImageException(what + " lists no image");
    }
    List<DockerArchiveEntryJson> out = new ArrayList<>(entries.size());
    for (int i = 0; i < entries.size(); i++) {
      JsonFields e = entries.get(i);
      if (e == null) {
        // Databind let a null entry through, and the importer then failed on it with an NPE.
        throw new ImageException(what + ": field `[" + i + "]` must be an object, not null");
      }
      DockerArchiveEntryJson d = new DockerArchiveEntryJson();
      d.config = e.string("Config");
      d.repoTags = e.strings("RepoTags");
      d.layers = e.strings("Layers");
      out.add(d);
    }
    return out;
  }
}
