package dev.berth.image;

import java.time.Duration;
import java.util.List;

/**
 * The image HEALTHCHECK (Docker config extension). {@code test} is e.g. {@code ["CMD", "curl", "-f",
 * "http://localhost/"]}, {@code ["CMD-SHELL", "..."]} or {@code ["NONE"]}; zero durations mean
 * "inherit the default".
 */
public record Healthcheck(
    List<String> test, Duration interval, Duration timeout, Duration startPeriod, int retries) {
  public Healthcheck {
    test = List.copyOf(test == null ? List.of() : test);
    interval = interval == null ? Duration.ZERO : interval;
    timeout = timeout == null ? Duration.ZERO : timeout;
    startPeriod = startPeriod == null ? Duration.ZERO : startPeriod;
    if (retries < 0) {
      throw new IllegalArgumentException("healthcheck retries must be >= 0, got " + retries);
    }
  }
}
