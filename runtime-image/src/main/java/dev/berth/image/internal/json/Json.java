package dev.berth.image.internal.json;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.berth.image.ContainerConfig;
import dev.berth.image.Descriptor;
import dev.berth.image.Digest;
import dev.berth.image.Healthcheck;
import dev.berth.image.ImageConfig;
import dev.berth.image.ImageException;
import dev.berth.image.ImageIndex;
import dev.berth.image.ImageManifest;
import dev.berth.image.Platform;
import dev.berth.image.internal.json.Dtos.ConfigJson;
import dev.berth.image.internal.json.Dtos.ContainerConfigJson;
import dev.berth.image.internal.json.Dtos.DescriptorJson;
import dev.berth.image.internal.json.Dtos.DockerArchiveEntryJson;
import dev.berth.image.internal.json.Dtos.HealthcheckJson;
import dev.berth.image.internal.json.Dtos.IndexJson;
import dev.berth.image.internal.json.Dtos.ManifestJson;
import dev.berth.image.internal.json.Dtos.OciLayoutJson;
import dev.berth.image.internal.json.Dtos.PlatformJson;
import dev.berth.image.internal.json.Dtos.RootfsJson;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/** The single ObjectMapper and the translation between wire DTOs and domain records. */
public final class Json {
  private Json() {}

  static final ObjectMapper MAPPER =
      new ObjectMapper()
          .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
          .configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);

  private static <T> T read(byte[] bytes, Class<T> type, String what) throws ImageException {
    try {
      T t = MAPPER.readValue(bytes, type);
      if (t == null) {
        throw new ImageException(what + " is empty");
      }
      return t;
    } catch (IOException e) {
      if (e instanceof ImageException ie) {
        throw ie;
      }
      throw new ImageException(what + " is not valid JSON: " + orig(e), e);
    }
  }

  private static String orig(IOException e) {
    return e.getMessage();
  }

  public static byte[] write(Object dto) {
    try {
      return MAPPER.writeValueAsBytes(dto);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  // ---- descriptors

  static Descriptor descriptor(DescriptorJson d, String where) throws ImageException {
    if (d == null) {
      throw new ImageException(where + ": missing descriptor");
    }
    Digest digest;
    try {
      digest = Digest.parse(d.digest);
    } catch (IllegalArgumentException e) {
      throw new ImageException(where + ": " + e.getMessage(), e);
    }
    if (d.mediaType == null || d.mediaType.isEmpty()) {
      throw new ImageException(where + ": blob " + digest + " has no media type");
    }
    if (d.size == null) {
      throw new ImageException(where + ": blob " + digest + " has no size");
    }
    try {
      return new Descriptor(
          d.mediaType,
          digest,
          d.size,
          d.annotations,
          Optional.ofNullable(d.platform)
              .map(p -> new Platform(nz(p.os), nz(p.architecture), p.variant)));
    } catch (IllegalArgumentException e) {
      throw new ImageException(where + ": " + e.getMessage(), e);
    }
  }

  static DescriptorJson toJson(Descriptor d) {
    DescriptorJson j = new DescriptorJson();
    j.mediaType = d.mediaType();
    j.digest = d.digest().toString();
    j.size = d.size();
    j.annotations = d.annotations().isEmpty() ? null : new TreeMap<>(d.annotations());
    d.platform()
        .ifPresent(
            p -> {
              PlatformJson pj = new PlatformJson();
              pj.os = p.os();
              pj.architecture = p.architecture();
              pj.variant = p.variant().isEmpty() ? null : p.variant();
              j.platform = pj;
            });
    return j;
  }

  private static String nz(String s) {
    return s == null ? "" : s;
  }

  // ---- index

  public static ImageIndex readIndex(byte[] bytes, String what) throws ImageException {
    IndexJson j = read(bytes, IndexJson.class, what);
    List<Descriptor> ms = new ArrayList<>();
    if (j.manifests != null) {
      for (DescriptorJson d : j.manifests) {
        ms.add(descriptor(d, what));
      }
    }
    try {
      return new ImageIndex(j.schemaVersion == null ? 0 : j.schemaVersion, j.mediaType, ms, j.annotations);
    } catch (IllegalArgumentException e) {
      throw new ImageException(what + ": " + e.getMessage(), e);
    }
  }

  public static byte[] writeIndex(ImageIndex index) {
    IndexJson j = new IndexJson();
    j.schemaVersion = index.schemaVersion();
    j.mediaType = index.mediaType();
    j.manifests = new ArrayList<>();
    for (Descriptor d : index.manifests()) {
      j.manifests.add(toJson(d));
    }
    j.annotations = index.annotations().isEmpty() ? null : index.annotations();
    return write(j);
  }

  // ---- manifest

  public static ImageManifest readManifest(byte[] bytes, String what) throws ImageException {
    ManifestJson j = read(bytes, ManifestJson.class, what);
    Descriptor config = descriptor(j.config, what + " config");
    List<Descriptor> layers = new ArrayList<>();
    if (j.layers != null) {
      for (DescriptorJson d : j.layers) {
        layers.add(descriptor(d, what + " layer"));
      }
    }
    try {
      return new ImageManifest(
          j.schemaVersion == null ? 0 : j.schemaVersion, j.mediaType, config, layers, j.annotations);
    } catch (IllegalArgumentException e) {
      throw new ImageException(what + ": " + e.getMessage(), e);
    }
  }

  public static byte[] writeManifest(ImageManifest m) {
    ManifestJson j = new ManifestJson();
    j.schemaVersion = m.schemaVersion();
    j.mediaType = m.mediaType();
    j.config = toJson(m.config());
    j.layers = new ArrayList<>();
    for (Descriptor d : m.layers()) {
      j.layers.add(toJson(d));
    }
    j.annotations = m.annotations().isEmpty() ? null : m.annotations();
    return write(j);
  }

  // ---- config

  public static ImageConfig readConfig(byte[] bytes, String what) throws ImageException {
    ConfigJson j = read(bytes, ConfigJson.class, what);
    if (j.architecture == null || j.os == null) {
      throw new ImageException(what + ": image config lacks architecture or os");
    }
    if (j.rootfs == null || !"layers".equals(j.rootfs.type)) {
      throw new ImageException(what + ": image config rootfs.type must be `layers`");
    }
    List<Digest> diffIds = new ArrayList<>();
    for (String s : j.rootfs.diff_ids == null ? List.<String>of() : j.rootfs.diff_ids) {
      try {
        diffIds.add(Digest.parse(s));
      } catch (IllegalArgumentException e) {
        throw new ImageException(what + ": rootfs.diff_ids: " + e.getMessage(), e);
      }
    }
    try {
      return new ImageConfig(
          j.architecture, j.os, j.variant, Optional.ofNullable(j.created), containerConfig(j.config), diffIds);
    } catch (IllegalArgumentException e) {
      throw new ImageException(what + ": " + e.getMessage(), e);
    }
  }

  private static ContainerConfig containerConfig(ContainerConfigJson c) {
    if (c == null) {
      return ContainerConfig.EMPTY;
    }
    Optional<Healthcheck> hc = Optional.empty();
    if (c.healthcheck != null) {
      HealthcheckJson h = c.healthcheck;
      hc =
          Optional.of(
              new Healthcheck(
                  h.test,
                  Duration.ofNanos(h.interval == null ? 0 : h.interval),
                  Duration.ofNanos(h.timeout == null ? 0 : h.timeout),
                  Duration.ofNanos(h.startPeriod == null ? 0 : h.startPeriod),
                  h.retries == null ? 0 : h.retries));
    }
    return new ContainerConfig(
        c.user,
        c.exposedPorts == null ? null : c.exposedPorts.keySet(),
        c.env,
        Optional.ofNullable(c.entrypoint),
        Optional.ofNullable(c.cmd),
        c.volumes == null ? null : c.volumes.keySet(),
        c.workingDir,
        c.labels,
        c.stopSignal,
        hc);
  }

  /** Serialises a config (used for round trips and for tests; imported configs keep their bytes). */
  public static byte[] writeConfig(ImageConfig cfg) {
    ConfigJson j = new ConfigJson();
    j.architecture = cfg.architecture();
    j.os = cfg.os();
    j.variant = cfg.variant().isEmpty() ? null : cfg.variant();
    j.created = cfg.created().orElse(null);
    ContainerConfig c = cfg.config();
    ContainerConfigJson cj = new ContainerConfigJson();
    cj.user = c.user().isEmpty() ? null : c.user();
    cj.exposedPorts = c.exposedPorts().isEmpty() ? null : emptyObjects(c.exposedPorts());
    cj.env = c.env().isEmpty() ? null : c.env();
    cj.entrypoint = c.entrypoint().orElse(null);
    cj.cmd = c.cmd().orElse(null);
    cj.volumes = c.volumes().isEmpty() ? null : emptyObjects(c.volumes());
    cj.workingDir = c.workingDir().isEmpty() ? null : c.workingDir();
    cj.labels = c.labels().isEmpty() ? null : new TreeMap<>(c.labels());
    cj.stopSignal = c.stopSignal().isEmpty() ? null : c.stopSignal();
    c.healthcheck()
        .ifPresent(
            h -> {
              HealthcheckJson hj = new HealthcheckJson();
              hj.test = h.test();
              hj.interval = h.interval().toNanos();
              hj.timeout = h.timeout().toNanos();
              hj.startPeriod = h.startPeriod().toNanos();
              hj.retries = h.retries();
              cj.healthcheck = hj;
            });
    j.config = cj;
    RootfsJson r = new RootfsJson();
    r.type = "layers";
    r.diff_ids = cfg.diffIds().stream().map(Digest::toString).toList();
    j.rootfs = r;
    return write(j);
  }

  private static Map<String, Object> emptyObjects(java.util.Set<String> keys) {
    Map<String, Object> m = new TreeMap<>();
    for (String k : keys) {
      m.put(k, new LinkedHashMap<>());
    }
    return m;
  }

  // ---- layout and docker archive

  public static void readOciLayout(byte[] bytes, String what) throws ImageException {
    OciLayoutJson j = read(bytes, OciLayoutJson.class, what);
    if (j.imageLayoutVersion == null || !j.imageLayoutVersion.startsWith("1.")) {
      throw new ImageException(what + ": unsupported imageLayoutVersion `" + j.imageLayoutVersion + "`");
    }
  }

  public static List<DockerArchiveEntryJson> readDockerArchiveManifest(byte[] bytes, String what)
      throws ImageException {
    try {
      List<DockerArchiveEntryJson> l =
          MAPPER.readValue(bytes, new TypeReference<List<DockerArchiveEntryJson>>() {});
      if (l == null || l.isEmpty()) {
        throw new ImageException(what + " lists no image");
      }
      return l;
    } catch (ImageException e) {
      throw e;
    } catch (IOException e) {
      throw new ImageException(what + " is not valid JSON: " + e.getMessage(), e);
    }
  }
}
