package dev.berth.image.internal.json;

import java.util.List;

/**
 * Wire shapes handed out of this package. Everything else is mapped straight between the JSON tree
 * and the domain records in {@link Json}; this one stays a plain holder because the docker-archive
 * importer reads its fields directly.
 */
public final class Dtos {
  private Dtos() {}

  /**
   * One element of a {@code docker save} manifest.json ({@code Config}, {@code RepoTags}, {@code
   * Layers}); a field absent or null in the JSON is null here. Filled by {@link
   * Json#readDockerArchiveManifest}.
   */
  public static final class DockerArchiveEntryJson {
    public String config;
    public List<String> repoTags;
    public List<String> layers;
  }
}
