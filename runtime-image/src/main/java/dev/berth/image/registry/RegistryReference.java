package dev.berth.image.registry;

import dev.berth.image.Digest;
import dev.berth.image.ImageReference;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A reference to an image in a registry, normalised as docker does (distribution/reference
 * {@code ParseNormalizedNamed}): {@code busybox} is {@code docker.io/library/busybox:latest},
 * {@code user/app} is {@code docker.io/user/app:latest}, {@code index.docker.io} is {@code
 * docker.io}, and a first component with a {@code .} or {@code :}, or {@code localhost}, or with an
 * uppercase letter, is a registry. A reference may carry a tag, a digest, or both ({@code
 * name:tag@sha256:…}, where the digest decides what is pulled); with neither the tag is {@code
 * latest}.
 *
 * @param registry registry host with optional port, e.g. {@code docker.io}, {@code 127.0.0.1:5000}
 * @param repository path in the registry, e.g. {@code library/busybox}
 * @param tag the tag, if any
 * @param digest the manifest digest, if any
 */
public record RegistryReference(String registry, String repository, Optional<String> tag, Optional<Digest> digest) {
  /** Docker Hub's name in references. */
  public static final String DOCKER_HUB = "docker.io";
  /** The host Docker Hub's registry API is served from. */
  public static final String DOCKER_HUB_API = "registry-1.docker.io";

  private static final String ALNUM = "[a-z0-9]+";
  private static final String SEPARATOR = "(?:[._]|__|[-]+)";
  private static final Pattern PATH_COMPONENT = Pattern.compile(ALNUM + "(?:" + SEPARATOR + ALNUM + ")*");
  private static final String DOMAIN_LABEL = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
  private static final Pattern DOMAIN = Pattern.compile(
      "(?:" + DOMAIN_LABEL + "(?:\\." + DOMAIN_LABEL + ")*|\\[[0-9a-fA-F:.]+\\])(?::[0-9]{1,5})?");
  private static final Pattern TAG = Pattern.compile("[\\w][\\w.-]{0,127}");
  private static final Pattern HEX64 = Pattern.compile("[a-f0-9]{64}");

  public RegistryReference {
    Objects.requireNonNull(registry, "registry");
    Objects.requireNonNull(repository, "repository");
    Objects.requireNonNull(tag, "tag");
    Objects.requireNonNull(digest, "digest");
    if (!DOMAIN.matcher(registry).matches()) {
      throw new IllegalArgumentException("invalid registry `" + registry + "`");
    }
    for (String c : repository.split("/", -1)) {
      if (!PATH_COMPONENT.matcher(c).matches()) {
        throw new IllegalArgumentException("invalid repository `" + repository + "`: component `" + c
            + "` (lowercase letters, digits and . _ - separators)");
      }
    }
    if (registry.length() + 1 + repository.length() > 255) {
      throw new IllegalArgumentException("invalid repository `" + registry + "/" + repository + "`: longer than 255 characters");
    }
    tag.ifPresent(t -> {
      if (!TAG.matcher(t).matches()) {
        throw new IllegalArgumentException("invalid tag `" + t + "`");
      }
    });
    if (tag.isEmpty() && digest.isEmpty()) {
      tag = Optional.of("latest");
    }
  }

  /** Parses and normalises {@code ref} with Docker Hub as the default registry. */
  public static RegistryReference parse(String ref) {
    return parse(ref, DOCKER_HUB);
  }

  /**
   * Parses and normalises {@code ref}; a name without a registry gets {@code defaultRegistry}
   * ({@code library/} is prefixed to single-component names only on Docker Hub).
   *
   * @throws IllegalArgumentException naming the reference and what is wrong with it
   */
  public static RegistryReference parse(String ref, String defaultRegistry) {
    try {
      return parseUnchecked(ref, defaultRegistry);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("invalid image reference `" + ref + "`: " + e.getMessage(), e);
    }
  }

  /**
   * Whether {@code ref} names no registry (a short name such as {@code busybox} or {@code
   * team/app}), so that the default registry decides where it comes from.
   */
  public static boolean isShortName(String ref) {
    String rest = ref;
    int at = rest.indexOf('@');
    if (at >= 0) {
      rest = rest.substring(0, at);
    }
    int first = rest.indexOf('/');
    String head = first < 0 ? "" : rest.substring(0, first);
    return first < 0 || (!head.contains(".") && !head.contains(":") && !head.equals("localhost")
        && head.toLowerCase(Locale.ROOT).equals(head));
  }

  private static RegistryReference parseUnchecked(String ref, String defaultRegistry) {
    if (ref == null || ref.isEmpty()) {
      throw new IllegalArgumentException("empty");
    }
    if (HEX64.matcher(ref).matches()) {
      throw new IllegalArgumentException("a 64-character hexadecimal string is an image id, not a reference");
    }
    String rest = ref;
    Optional<Digest> digest = Optional.empty();
    int at = rest.indexOf('@');
    if (at >= 0) {
      digest = Optional.of(Digest.parse(rest.substring(at + 1)));
      rest = rest.substring(0, at);
    }
    Optional<String> tag = Optional.empty();
    int slash = rest.lastIndexOf('/');
    int colon = rest.lastIndexOf(':');
    if (colon > slash) {
      tag = Optional.of(rest.substring(colon + 1));
      rest = rest.substring(0, colon);
    }
    if (rest.isEmpty()) {
      throw new IllegalArgumentException("no repository name");
    }
    String registry;
    String repository;
    int first = rest.indexOf('/');
    String head = first < 0 ? "" : rest.substring(0, first);
    if (first < 0 || (!head.contains(".") && !head.contains(":") && !head.equals("localhost")
        && head.toLowerCase(Locale.ROOT).equals(head))) {
      registry = defaultRegistry;
      repository = rest;
    } else {
      registry = head;
      repository = rest.substring(first + 1);
    }
    if (registry.equals("index.docker.io")) {
      registry = DOCKER_HUB;
    }
    if (!repository.toLowerCase(Locale.ROOT).equals(repository)) {
      throw new IllegalArgumentException("repository name must be lowercase");
    }
    if (registry.equals(DOCKER_HUB) && !repository.contains("/")) {
      repository = "library/" + repository;
    }
    return new RegistryReference(registry, repository, tag, digest);
  }

  /** What a manifest request asks for: the digest when there is one (it is verified), else the tag. */
  public String manifestReference() {
    return digest.map(Digest::toString).orElseGet(tag::orElseThrow);
  }

  /** The host (and port) the registry API is reached at: Docker Hub's is {@value #DOCKER_HUB_API}. */
  public String apiHost() {
    return registry.equals(DOCKER_HUB) ? DOCKER_HUB_API : registry;
  }

  /** This reference with another tag and no digest. */
  public RegistryReference withTag(String newTag) {
    return new RegistryReference(registry, repository, Optional.of(newTag), Optional.empty());
  }

  /** This reference pinned to {@code d} (the tag kept). */
  public RegistryReference withDigest(Digest d) {
    return new RegistryReference(registry, repository, tag, Optional.of(d));
  }

  /**
   * The name the pulled image gets in a store: {@code registry/repository:tag}; an image pulled by
   * digest alone is named {@code registry/repository:sha256-<hex>}, as a store ref needs a tag.
   */
  public ImageReference storeName() {
    String t = tag.orElseGet(() -> digest.orElseThrow().algorithm() + "-" + digest.orElseThrow().hex());
    return new ImageReference(registry + "/" + repository, t);
  }

  /** The short form docker prints: {@code busybox:latest} for {@code docker.io/library/busybox:latest}. */
  public String familiarName() {
    String name = registry + "/" + repository;
    if (registry.equals(DOCKER_HUB)) {
      name = repository.startsWith("library/") && repository.indexOf('/', 8) < 0 ? repository.substring(8) : repository;
    }
    return name + tag.map(t -> ":" + t).orElse("") + digest.map(d -> "@" + d).orElse("");
  }

  @Override
  public String toString() {
    return registry + "/" + repository + tag.map(t -> ":" + t).orElse("") + digest.map(d -> "@" + d).orElse("");
  }
}
