package dev.berth.cgroups;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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

  /**
   * {@code {major, minor}} of a block device node such as {@code /dev/sda} (docker's
   * {@code --device-write-bps /dev/sda:1mb}); symlinks are followed.
   *
   * @throws IllegalArgumentException naming the path when it is missing or not a block device
   */
  public static int[] deviceNumbers(Path blockDevice) {
    try {
      int mode = (Integer) Files.getAttribute(blockDevice, "unix:mode");
      if ((mode & 0170000) != 0060000) {
        throw new IllegalArgumentException("io.max: " + blockDevice + " is not a block device");
      }
      long rdev = (Long) Files.getAttribute(blockDevice, "unix:rdev");
      int major = (int) (((rdev >>> 8) & 0xfff) | ((rdev >>> 32) & ~0xfffL));
      int minor = (int) ((rdev & 0xff) | ((rdev >>> 12) & ~0xffL));
      return new int[] {major, minor};
    } catch (IOException e) {
      throw new IllegalArgumentException("io.max: cannot stat " + blockDevice + ": " + e, e);
    } catch (UnsupportedOperationException e) {
      throw new IllegalArgumentException("io.max: device numbers need a unix file system view: " + e.getMessage(), e);
    }
  }

  public static DeviceThrottle readBps(Path blockDevice, long bps) {
    int[] d = deviceNumbers(blockDevice);
    return readBps(d[0], d[1], bps);
  }

  public static DeviceThrottle writeBps(Path blockDevice, long bps) {
    int[] d = deviceNumbers(blockDevice);
    return writeBps(d[0], d[1], bps);
  }

  public static DeviceThrottle readIops(Path blockDevice, long iops) {
    int[] d = deviceNumbers(blockDevice);
    return readIops(d[0], d[1], iops);
  }

  public static DeviceThrottle writeIops(Path blockDevice, long iops) {
    int[] d = deviceNumbers(blockDevice);
    return writeIops(d[0], d[1], iops);
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
