package dev.berth.image;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The OCI image configuration: platform, execution defaults and the DiffIDs (sha256 of each
 * uncompressed layer tar, base first).
 */
public record ImageConfig(
    String architecture,
    String os,
    String variant,
    Optional<String> created,
    ContainerConfig config,
    List<Digest> diffIds) {
  public ImageConfig {
    Objects.requireNonNull(architecture, "image config has no architecture");
    Objects.requireNonNull(os, "image config has no os");
    variant = variant == null ? "" : variant;
    created = created == null ? Optional.empty() : created;
    config = config == null ? ContainerConfig.EMPTY : config;
    diffIds = List.copyOf(diffIds == null ? List.of() : diffIds);
  }

  public Platform platform() {
    return new Platform(os, architecture, variant);
  }
}
