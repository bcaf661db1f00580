package dev.berth.image;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The process an image runs by default, resolved with Docker semantics from its config and the
 * caller's overrides. A pure function: no filesystem access (the {@code user} string is returned
 * as written in the image; resolving names against the image's /etc/passwd is the caller's job and
 * must be root-scoped).
 *
 * @param argv entrypoint followed by cmd
 * @param env image Env, with PATH defaulted when the image sets none
 * @param workingDir image WorkingDir, or {@code /}
 * @param user image User ({@code uid}, {@code uid:gid}, {@code name} or {@code name:group}), or empty for root
 * @param stopSignal image StopSignal, or {@code SIGTERM}
 * @param healthcheck image HEALTHCHECK, when any
 */
public record ProcessDefaults(
    List<String> argv,
    List<String> env,
    String workingDir,
    String user,
    String stopSignal,
    Optional<Healthcheck> healthcheck) {

  /** Docker's default PATH when an image sets none. */
  public static final String DEFAULT_PATH =
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

  public ProcessDefaults {
    argv = List.copyOf(argv);
    env = List.copyOf(env);
  }

  /**
   * Resolves argv like {@code docker run}: an entrypoint override (even an empty one) replaces the
   * image Entrypoint <em>and</em> drops the image Cmd; a cmd override replaces the image Cmd and keeps
   * the Entrypoint.
   *
   * @throws IllegalArgumentException when the result has no command at all
   */
  public static ProcessDefaults resolve(
      ImageConfig image, Optional<List<String>> entrypointOverride, Optional<List<String>> cmdOverride) {
    ContainerConfig c = image.config();
    List<String> entrypoint;
    List<String> cmd;
    if (entrypointOverride.isPresent()) {
      entrypoint = entrypointOverride.get();
      cmd = cmdOverride.orElse(List.of());
    } else {
      entrypoint = c.entrypoint().orElse(List.of());
      cmd = cmdOverride.orElseGet(() -> c.cmd().orElse(List.of()));
    }
    List<String> argv = new ArrayList<>(entrypoint);
    argv.addAll(cmd);
    if (argv.isEmpty()) {
      throw new IllegalArgumentException("no command specified: the image has no Entrypoint or Cmd and none was given");
    }
    List<String> env = new ArrayList<>(c.env());
    if (env.stream().noneMatch(e -> e.startsWith("PATH="))) {
      env.add(0, DEFAULT_PATH);
    }
    return new ProcessDefaults(
        argv,
        env,
        c.workingDir().isEmpty() ? "/" : c.workingDir(),
        c.user(),
        c.stopSignal().isEmpty() ? "SIGTERM" : c.stopSignal(),
        c.healthcheck());
  }

  /** Merges {@code NAME=value} lists: later entries replace earlier ones with the same name, order kept. */
  public static List<String> mergeEnv(List<String> base, List<String> overrides) {
    Map<String, String> m = new LinkedHashMap<>();
    for (List<String> l : List.of(base, overrides)) {
      for (String e : l) {
        int eq = e.indexOf('=');
        if (eq <= 0) {
          throw new IllegalArgumentException("invalid environment entry `" + e + "`: expected NAME=value");
        }
        m.put(e.substring(0, eq), e);
      }
    }
    return List.copyOf(m.values());
  }
}
