package dev.berth.cgroups;

import java.util.OptionalLong;

/**
 * Per-device IO throttle (v2 {@code io.max}, v1 {@code blkio.throttle.*_device}). Each rate is
 * optional; an empty rate is not limited.
 */
public record DeviceThrottle(
    int major,
    int minor,
    OptionalLong readBps,
    OptionalLong writeBps,
    OptionalLong readIops,
    OptionalLong writeIops) {

  public DeviceThrottle {
    String dev = major + ":" + minor;
    if (major < 0 || minor < 0) {
      throw new IllegalArgumentException("io.max: device must be major:minor >= 0, got " + dev);
    }
    check(dev, "rbps", readBps);
    check(dev, "wbps", writeBps);
    check(dev, "riops", readIops);
    check(dev, "wiops", writeIops);
    if (readBps.isEmpty() && writeBps.isEmpty() && readIops.isEmpty() && writeIops.isEmpty()) {
      throw new IllegalArgumentException("io.max[" + dev + "]: at least one rate must be set");
    }
  }

  private static void check(String dev, String key, OptionalLong v) {
    if (v.isPresent() && v.getAsLong() <= 0) {
      throw new IllegalArgumentException(
          "io.max[" + dev + "]." + key + ": must be > 0, got " + v.getAsLong());
    }
  }

  public static DeviceThrottle readBps(int major, int minor, long bps) {
    return new DeviceThrottle(major, minor, OptionalLong.of(bps), OptionalLong.empty(), OptionalLong.empty(), OptionalLong.empty());
  }

  public static DeviceThrottle writeBps(int major, int minor, long bps) {
    return new DeviceThrottle(major, minor, OptionalLong.empty(), OptionalLong.of(bps), OptionalLong.empty(), OptionalLong.empty());
  }

  public static DeviceThrottle readIops(int major, int minor, long iops) {
    return new DeviceThrottle(major, minor, OptionalLong.empty(), OptionalLong.empty(), OptionalLong.of(iops), OptionalLong.empty());
  }

  public static DeviceThrottle writeIops(int major, int minor, long iops) {
    return new DeviceThrottle(major, minor, OptionalLong.empty(), OptionalLong.empty(), OptionalLong.empty(), OptionalLong.of(iops));
  }

  /** Combines the rates of two throttles for the same device; rates of {@code other} win. */
  public DeviceThrottle merge(DeviceThrottle other) {
    if (other.major != major || other.minor != minor) {
      throw new IllegalArgumentException("io.max: cannot merge " + device() + " with " + other.device());
    }
    return new DeviceThrottle(major, minor,
        other.readBps.isPresent() ? other.readBps : readBps,
        other.writeBps.isPresent() ? other.writeBps : writeBps,
        other.readIops.isPresent() ? other.readIops : readIops,
        other.writeIops.isPresent() ? other.writeIops : writeIops);
  }

  public String device() {
    return major + ":" + minor;
  }
}
