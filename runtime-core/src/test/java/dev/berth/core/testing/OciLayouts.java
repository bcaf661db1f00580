package dev.berth.core.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.image.Platform;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/** Writes a one-layer OCI image layout of the host's busybox, with a container config the test gives. */
public final class OciLayouts {
    private static final ObjectMapper JSON = new ObjectMapper();

    private OciLayouts() {}

    /**
     * @param config the image config's {@code config} object (Cmd, Healthcheck, ...)
     * @return the layout directory, importable with the tag {@code tag}
     */
    public static Path busybox(Path dir, String tag, ObjectNode config, List<String> applets) throws IOException {
        Files.createDirectories(dir.resolve("blobs/sha256"));
        Files.writeString(dir.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
        byte[] layer = layer(applets);
        String layerDigest = blob(dir, layer);
        ObjectNode image = JSON.createObjectNode();
        image.put("architecture", Platform.host().architecture());
        image.put("os", "linux");
        image.set("config", config);
        ObjectNode rootfs = image.putObject("rootfs");
        rootfs.put("type", "layers");
        rootfs.putArray("diff_ids").add(layerDigest);
        byte[] cb = JSON.writeValueAsBytes(image);
        String configDigest = blob(dir, cb);
        ObjectNode manifest = JSON.createObjectNode();
        manifest.put("schemaVersion", 2);
        manifest.put("mediaType", "application/vnd.oci.image.manifest.v1+json");
        ObjectNode c = manifest.putObject("config");
        c.put("mediaType", "application/vnd.oci.image.config.v1+json");
        c.put("digest", configDigest);
        c.put("size", cb.length);
        ArrayNode layers = manifest.putArray("layers");
        ObjectNode l = layers.addObject();
        l.put("mediaType", "application/vnd.oci.image.layer.v1.tar");
        l.put("digest", layerDigest);
        l.put("size", layer.length);
        byte[] mb = JSON.writeValueAsBytes(manifest);
        String manifestDigest = blob(dir, mb);
        ObjectNode index = JSON.createObjectNode();
        index.put("schemaVersion", 2);
        ObjectNode m = index.putArray("manifests").addObject();
        m.put("mediaType", "application/vnd.oci.image.manifest.v1+json");
        m.put("digest", manifestDigest);
        m.put("size", mb.length);
        m.putObject("annotations").put("org.opencontainers.image.ref.name", tag);
        Files.write(dir.resolve("index.json"), JSON.writeValueAsBytes(index));
        return dir;
    }

    private static byte[] layer(List<String> applets) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(out)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (String d : new String[] {"bin/", "tmp/", "proc/", "sys/", "dev/", "etc/"}) {
                TarArchiveEntry e = new TarArchiveEntry(d);
                e.setMode(d.equals("tmp/") ? 01777 : 0755);
                tar.putArchiveEntry(e);
                tar.closeArchiveEntry();
            }
            byte[] busybox = Files.readAllBytes(Path.of("/bin/busybox"));
            TarArchiveEntry bb = new TarArchiveEntry("bin/busybox");
            bb.setMode(0755);
            bb.setSize(busybox.length);
            tar.putArchiveEntry(bb);
            tar.write(busybox);
            tar.closeArchiveEntry();
            for (String a : applets) {
                TarArchiveEntry link = new TarArchiveEntry("bin/" + a, TarArchiveEntry.LF_SYMLINK);
                link.setLinkName("busybox");
                link.setMode(0777);
                tar.putArchiveEntry(link);
                tar.closeArchiveEntry();
            }
        }
        return out.toByteArray();
    }

    private static String blob(Path layout, byte[] b) throws IOException {
        try {
            String hex = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
            Files.write(layout.resolve("blobs/sha256/" + hex), b);
            return "sha256:" + hex;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
