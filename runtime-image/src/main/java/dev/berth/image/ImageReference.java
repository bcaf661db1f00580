package dev.berth.image;

import java.util.regex.Pattern;

/**
 * A validated image reference {@code name:tag} following the Docker reference grammar
 * (distribution/reference): lowercase path components separated by {@code /}, an optional registry
 * domain (with port) as first component, and a tag {@code [\w][\w.-]{0,127}} that defaults to
 * {@code latest}. Names are not normalised (no implicit {@code docker.io/library/}).
 */
public record ImageReference(String name, String tag) {
  private static final String ALNUM = "[a-z0-9]+";
  private static final String SEPARATOR = "(?:[._]|__|[-]+)";
  private static final Pattern PATH_COMPONENT =
      Pattern.compile(ALNUM + "(?:" + SEPARATOR + ALNUM + ")*");
  private static final Pattern DOMAIN =
      Pattern.compile(
          "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
              + "(?:\\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*(?::[0-9]+)?");
  private static final Pattern TAG = Pattern.compile("[\\w][\\w.-]{0,127}");

  public ImageReference {
    validateName(name);
    if (!TAG.matcher(tag).matches()) {
      throw new IllegalArgumentException("invalid tag `" + tag + "` in image reference " + name + ":" + tag);
    }
  }

  /** Parses {@code name[:tag]}; the tag defaults to {@code latest}. Digest references are refused. */
  public static ImageReference parse(String ref) {
    if (ref == null || ref.isEmpty()) {
      throw new IllegalArgumentException("invalid image reference: empty");
    }
    if (ref.contains("@")) {
      throw new IllegalArgumentException(
          "invalid image reference `" + ref + "`: digest references are not supported here");
    }
    int slash = ref.lastIndexOf('/');
    int colon = ref.lastIndexOf(':');
    String name = ref;
    String tag = "latest";
    if (colon > slash) {
      name = ref.substring(0, colon);
      tag = ref.substring(colon + 1);
    }
    try {
      return new ImageReference(name, tag);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("invalid image reference `" + ref + "`: " + e.getMessage(), e);
    }
  }

  private static void validateName(String name) {
    if (name == null || name.isEmpty()) {
      throw new IllegalArgumentException("empty repository name");
    }
    if (name.length() > 255) {
      throw new IllegalArgumentException("repository name longer than 255 characters");
    }
    String[] parts = name.split("/", -1);
    int start = 0;
    if (parts.length > 1
        && (parts[0].contains(".") || parts[0].contains(":") || parts[0].equals("localhost")
            || !parts[0].equals(parts[0].toLowerCase(java.util.Locale.ROOT)))) {
      if (!DOMAIN.matcher(parts[0]).matches()) {
        throw new IllegalArgumentException("invalid registry domain `" + parts[0] + "`");
      }
      start = 1;
    }
    for (int i = start; i < parts.length; i++) {
      if (!PATH_COMPONENT.matcher(parts[i]).matches()) {
        throw new IllegalArgumentException(
            "invalid repository name component `" + parts[i] + "` (lowercase letters, digits and . _ - separators)");
      }
    }
  }

  @Override
  public String toString() {
    return name + ":" + tag;
  }
}
