package dev.berth.image;

import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/** An OCI content descriptor: what a blob is, its digest and its exact size. */
public record Descriptor(
    String mediaType,
    Digest digest,
    long size,
    Map<String, String> annotations,
    Optional<Platform> platform) {

  /** The annotation naming a reference (a tag, or a full reference) in an OCI image layout. */
  public static final String REF_NAME = "org.opencontainers.image.ref.name";

  public Descriptor {
    Objects.requireNonNull(mediaType, "mediaType");
    Objects.requireNonNull(digest, "digest");
    if (mediaType.isEmpty()) {
      throw new IllegalArgumentException("descriptor " + digest + " has an empty media type");
    }
    if (size < 0) {
      throw new IllegalArgumentException("descriptor " + digest + " has a negative size " + size);
    }
    annotations = annotations == null ? Map.of() : Map.copyOf(annotations);
    platform = platform == null ? Optional.empty() : platform;
  }

  public Descriptor(String mediaType, Digest digest, long size) {
    this(mediaType, digest, size, Map.of(), Optional.empty());
  }

  public Optional<String> refName() {
    return Optional.ofNullable(annotations.get(REF_NAME));
  }
}
