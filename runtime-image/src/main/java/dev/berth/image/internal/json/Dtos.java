package dev.berth.image.internal.json;

import com.fasterxml.jackson.annotation.JsonAutoDetect;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;

/**
 * Wire DTOs of the OCI / Docker JSON documents. Fields are the JSON (Jib's JsonTemplate style); the
 * domain records in {@code dev.berth.image} never carry Jackson annotations. Unknown fields are
 * ignored on read.
 */
public final class Dtos {
  private Dtos() {}

  @JsonAutoDetect(
      fieldVisibility = JsonAutoDetect.Visibility.ANY,
      getterVisibility = JsonAutoDetect.Visibility.NONE,
      isGetterVisibility = JsonAutoDetect.Visibility.NONE,
      setterVisibility = JsonAutoDetect.Visibility.NONE)
  @JsonInclude(JsonInclude.Include.NON_NULL)
  interface Template {}

  public static final class PlatformJson implements Template {
    public String os;
    public String architecture;
    public String variant;

    @JsonProperty("os.version")
    public String osVersion;

    @JsonProperty("os.features")
    public List<String> osFeatures;
  }

  public static final class DescriptorJson implements Template {
    public String mediaType;
    public String digest;
    public Long size;
    public List<String> urls;
    public Map<String, String> annotations;
    public PlatformJson platform;
    public String artifactType;
  }

  public static final class IndexJson implements Template {
    public Integer schemaVersion;
    public String mediaType;
    public List<DescriptorJson> manifests;
    public Map<String, String> annotations;
  }

  public static final class ManifestJson implements Template {
    public Integer schemaVersion;
    public String mediaType;
    public String artifactType;
    public DescriptorJson config;
    public List<DescriptorJson> layers;
    public Map<String, String> annotations;
  }

  public static final class HealthcheckJson implements Template {
    @JsonProperty("Test")
    public List<String> test;

    @JsonProperty("Interval")
    public Long interval;

    @JsonProperty("Timeout")
    public Long timeout;

    @JsonProperty("StartPeriod")
    public Long startPeriod;

    @JsonProperty("Retries")
    public Integer retries;
  }

  public static final class ContainerConfigJson implements Template {
    @JsonProperty("User")
    public String user;

    @JsonProperty("ExposedPorts")
    public Map<String, Object> exposedPorts;

    @JsonProperty("Env")
    public List<String> env;

    @JsonProperty("Entrypoint")
    public List<String> entrypoint;

    @JsonProperty("Cmd")
    public List<String> cmd;

    @JsonProperty("Volumes")
    public Map<String, Object> volumes;

    @JsonProperty("WorkingDir")
    public String workingDir;

    @JsonProperty("Labels")
    public Map<String, String> labels;

    @JsonProperty("StopSignal")
    public String stopSignal;

    @JsonProperty("Healthcheck")
    public HealthcheckJson healthcheck;
  }

  public static final class RootfsJson implements Template {
    public String type;
    public List<String> diff_ids;
  }

  public static final class ConfigJson implements Template {
    public String created;
    public String author;
    public String architecture;
    public String os;
    public String variant;
    public ContainerConfigJson config;
    public RootfsJson rootfs;
    public JsonNode history;
  }

  public static final class OciLayoutJson implements Template {
    public String imageLayoutVersion;
  }

  /** One element of a {@code docker save} manifest.json. */
  public static final class DockerArchiveEntryJson implements Template {
    @JsonProperty("Config")
    public String config;

    @JsonProperty("RepoTags")
    public List<String> repoTags;

    @JsonProperty("Layers")
    public List<String> layers;
  }
}
