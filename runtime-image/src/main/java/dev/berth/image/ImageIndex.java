package dev.berth.image;

import java.util.List;
import java.util.Map;

/** An OCI image index (or a Docker manifest list): descriptors of manifests, one per platform. */
public record ImageIndex(
    int schemaVersion, String mediaType, List<Descriptor> manifests, Map<String, String> annotations) {
  public ImageIndex {
    if (schemaVersion != 2) {
      throw new IllegalArgumentException("image index has schemaVersion " + schemaVersion + ", expected 2");
    }
    mediaType = mediaType == null ? MediaTypes.OCI_INDEX : mediaType;
    if (!MediaTypes.isIndex(mediaType)) {
      throw new IllegalArgumentException("image index has unsupported media type `" + mediaType + "`");
    }
    manifests = List.copyOf(manifests == null ? List.of() : manifests);
    annotations = annotations == null ? Map.of() : Map.copyOf(annotations);
  }
}
