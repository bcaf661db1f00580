package dev.berth.image;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The execution defaults of an image ({@code config} in the OCI image config). Strings absent in the
 * JSON are empty; lists absent are empty. {@code entrypoint} and {@code cmd} distinguish "absent"
 * from "empty" only through {@link Optional}.
 */
public record ContainerConfig(
    String user,
    Set<String> exposedPorts,
    List<String> env,
    Optional<List<String>> entrypoint,
    Optional<List<String>> cmd,
    Set<String> volumes,
    String workingDir,
    Map<String, String> labels,
    String stopSignal,
    Optional<Healthcheck> healthcheck) {

  public static final ContainerConfig EMPTY =
      new ContainerConfig(null, null, null, null, null, null, null, null, null, null);

  public ContainerConfig {
    user = user == null ? "" : user;
    exposedPorts = exposedPorts == null ? Set.of() : Set.copyOf(exposedPorts);
    env = List.copyOf(env == null ? List.of() : env);
    entrypoint = entrypoint == null ? Optional.empty() : entrypoint.map(List::copyOf);
    cmd = cmd == null ? Optional.empty() : cmd.map(List::copyOf);
    volumes = volumes == null ? Set.of() : Set.copyOf(volumes);
    workingDir = workingDir == null ? "" : workingDir;
    labels = labels == null ? Map.of() : Map.copyOf(labels);
    stopSignal = stopSignal == null ? "" : stopSignal;
    healthcheck = healthcheck == null ? Optional.empty() : healthcheck;
    for (String e : env) {
      if (e.indexOf('=') <= 0) {
        throw new IllegalArgumentException("invalid Env entry `" + e + "`: expected NAME=value");
      }
    }
  }
}
