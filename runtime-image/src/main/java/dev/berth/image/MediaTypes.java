package dev.berth.image;

import java.util.Optional;
import java.util.Set;

/** OCI and Docker (v2 schema 2) media types understood by the store. */
public final class MediaTypes {
  private MediaTypes() {}

  public static final String OCI_LAYOUT_VERSION = "1.0.0";
  public static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
  public static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
  public static final String OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
  public static final String OCI_LAYER = "application/vnd.oci.image.layer.v1.tar";
  public static final String OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
  public static final String OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd";
  public static final String OCI_LAYER_ND = "application/vnd.oci.image.layer.nondistributable.v1.tar";
  public static final String OCI_LAYER_ND_GZIP =
      "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
  public static final String OCI_LAYER_ND_ZSTD =
      "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd";

  public static final String DOCKER_MANIFEST_LIST =
      "application/vnd.docker.distribution.manifest.list.v2+json";
  public static final String DOCKER_MANIFEST =
      "application/vnd.docker.distribution.manifest.v2+json";
  public static final String DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json";
  public static final String DOCKER_LAYER_GZIP =
      "application/vnd.docker.image.rootfs.diff.tar.gzip";
  public static final String DOCKER_LAYER_FOREIGN_GZIP =
      "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
  /** Not registered by Docker, but written by some tools for uncompressed docker layers. */
  public static final String DOCKER_LAYER_TAR = "application/vnd.docker.image.rootfs.diff.tar";

  /** Compression of a layer blob. */
  public enum Compression {
    NONE,
    GZIP,
    ZSTD
  }

  private static final Set<String> INDEXES = Set.of(OCI_INDEX, DOCKER_MANIFEST_LIST);
  private static final Set<String> MANIFESTS = Set.of(OCI_MANIFEST, DOCKER_MANIFEST);
  private static final Set<String> CONFIGS = Set.of(OCI_CONFIG, DOCKER_CONFIG);

  public static boolean isIndex(String mediaType) {
    return INDEXES.contains(mediaType);
  }

  public static boolean isManifest(String mediaType) {
    return MANIFESTS.contains(mediaType);
  }

  public static boolean isConfig(String mediaType) {
    return CONFIGS.contains(mediaType);
  }

  /** The compression of a layer media type, or empty when it is not a known layer type. */
  public static Optional<Compression> layerCompression(String mediaType) {
    if (mediaType == null) {
      return Optional.empty();
    }
    switch (mediaType) {
      case OCI_LAYER:
      case OCI_LAYER_ND:
      case DOCKER_LAYER_TAR:
        return Optional.of(Compression.NONE);
      case OCI_LAYER_GZIP:
      case OCI_LAYER_ND_GZIP:
      case DOCKER_LAYER_GZIP:
      case DOCKER_LAYER_FOREIGN_GZIP:
        return Optional.of(Compression.GZIP);
      case OCI_LAYER_ZSTD:
      case OCI_LAYER_ND_ZSTD:
        return Optional.of(Compression.ZSTD);
      default:
        return Optional.empty();
    }
  }

  /** The OCI layer media type for a compression. */
  public static String ociLayer(Compression c) {
    switch (c) {
      case GZIP:
        return OCI_LAYER_GZIP;
      case ZSTD:
        return OCI_LAYER_ZSTD;
      default:
        return OCI_LAYER;
    }
  }
}
