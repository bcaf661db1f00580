package dev.berth.image;

import static dev.berth.image.HostTools.run;
import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.linux.internal.ProcStatus;
import dev.berth.testing.Preconditions;
import dev.berth.image.Fixtures.Layer;
import dev.berth.image.internal.linux.LinuxFs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A layer made by GNU tar {@code --xattrs --acls} from files given a POSIX ACL ({@code setfacl}),
 * a default ACL and file capabilities ({@code setcap}): after import and unpack, each xattr holds
 * the bytes of the original. GNU tar writes them as {@code SCHILY.xattr.*} pax records with
 * binary values ({@code 0xff} in ACLs, {@code 0x80} in the capability mask of cap_setuid), which
 * a UTF-8 decoding corrupts. Skips with a reason unless root with GNU tar, setfacl and setcap.
 */
class TarXattrInteropIT {
  @TempDir Path tmp;

  @Test
  void gnuTarAclsAndCapabilitiesSurviveByteForByte() throws Exception {
    Preconditions.require(ProcStatus.isRoot(), "security.capability and ACLs of other users need root");
    Preconditions.requireTool("setfacl", "acl");
    Preconditions.requireTool("setcap", "libcap2-bin");
    Preconditions.require(run(tmp, "tar", "--version").contains("GNU tar"), "tar is not GNU tar");
    Path src = Files.createDirectory(tmp.resolve("src"));
    Files.writeString(src.resolve("acl.txt"), "acl");
    Files.copy(Path.of("/usr/bin/id"), src.resolve("ping"));
    Files.copy(Path.of("/usr/bin/id"), src.resolve("su"));
    Files.createDirectory(src.resolve("shared"));
    run(src, "setfacl", "-m", "u:65534:r-x", "acl.txt");
    run(src, "setfacl", "-d", "-m", "u:65534:rwx", "shared");
    run(src, "setcap", "cap_net_raw+ep", "ping");
    run(src, "setcap", "cap_setuid,cap_net_raw+ep", "su");
    Map<String, String> xattrs = Map.of(
        "acl.txt", "system.posix_acl_access",
        "shared", "system.posix_acl_default",
        "ping", "security.capability",
        "su", "security.capability");
    run(tmp, "tar", "--xattrs", "--acls", "-cf", "layer.tar", "-C", src.toString(), ".");
    byte[] tar = Files.readAllBytes(tmp.resolve("layer.tar"));
    Fixtures.writeLayout(tmp.resolve("layout"), "t", List.of(Layer.zstd(tar)), null);

    try (ImageStore store = ImageStore.open(tmp.resolve("store"))) {
      store.importImage(tmp.resolve("layout"), Optional.of("xattrs:t"), ImportProgress.NONE);
      Path layer = store.layerDir(Digest.sha256Of(tar));
      for (Map.Entry<String, String> x : xattrs.entrySet()) {
        byte[] original = LinuxFs.lgetxattr(src.resolve(x.getKey()).toString(), x.getValue());
        assertThat(original).as("setfacl/setcap gave %s %s", x.getKey(), x.getValue()).isNotNull();
        assertThat(LinuxFs.lgetxattr(layer.resolve(x.getKey()).toString(), x.getValue()))
            .as("%s of %s", x.getValue(), x.getKey()).isEqualTo(original);
      }
      // and as the tools read them back
      assertThat(run(layer, "getfacl", "-n", "-c", "acl.txt")).isEqualTo(run(src, "getfacl", "-n", "-c", "acl.txt"));
      assertThat(run(layer, "getfacl", "-n", "-c", "shared")).isEqualTo(run(src, "getfacl", "-n", "-c", "shared"));
      assertThat(run(layer, "getcap", "su")).isEqualTo(run(src, "getcap", "su")).contains("cap_setuid");
    }
  }
}
