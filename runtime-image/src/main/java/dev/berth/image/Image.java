package dev.berth.image;

import java.util.List;
import java.util.Objects;

/** An image in the store: its name:tag, manifest digest, config and layer DiffIDs (base first). */
public record Image(String name, Digest manifestDigest, ImageConfig config, List<Digest> diffIds) {
  public Image {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(manifestDigest, "manifestDigest");
    Objects.requireNonNull(config, "config");
    diffIds = List.copyOf(diffIds);
  }
}
