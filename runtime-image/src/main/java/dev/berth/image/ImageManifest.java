package dev.berth.image;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/** An OCI image manifest (or Docker v2 schema 2 manifest): a config plus ordered layers, base first. */
public record ImageManifest(
    int schemaVersion,
    String mediaType,
    Descriptor config,
    List<Descriptor> layers,
    Map<String, String> annotations) {
  public ImageManifest {
    if (schemaVersion != 2) {
      throw new IllegalArgumentException("image manifest has schemaVersion " + schemaVersion + ", expected 2");
    }
    mediaType = mediaType == null ? MediaTypes.OCI_MANIFEST : mediaType;
    if (!MediaTypes.isManifest(mediaType)) {
      throw new IllegalArgumentException("image manifest has unsupported media type `" + mediaType + "`");
    }
    Objects.requireNonNull(config, "image manifest has no config");
    if (!MediaTypes.isConfig(config.mediaType())) {
      throw new IllegalArgumentException(
          "config " + config.digest() + " has unsupported media type `" + config.mediaType() + "`");
    }
    layers = List.copyOf(layers == null ? List.of() : layers);
    for (Descriptor l : layers) {
      if (MediaTypes.layerCompression(l.mediaType()).isEmpty()) {
        throw new IllegalArgumentException(
            "layer " + l.digest() + " has unsupported media type `" + l.mediaType() + "`");
      }
    }
    annotations = annotations == null ? Map.of() : Map.copyOf(annotations);
  }
}
