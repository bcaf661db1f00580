package dev.berth.image.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.image.ImageException;
import dev.berth.image.registry.RegistriesConf.Endpoint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** registries.conf (containers-registries.conf(5) v2): parsing, matching, rewriting, drop-ins, bad files. */
class RegistriesConfTest {
  @TempDir Path tmp;

  Path write(String name, String toml) throws IOException {
    Path p = tmp.resolve(name);
    Files.createDirectories(p.getParent());
    Files.writeString(p, toml);
    return p;
  }

  RegistriesConf conf(String toml) throws IOException {
    return RegistriesConf.load(write("registries.conf", toml), Optional.empty());
  }

  static RegistryReference ref(String s) {
    return RegistryReference.parse(s);
  }

  @Test
  void noFileMeansDockerHubForShortNamesAndTheReferencesOwnRegistry() throws IOException {
    RegistriesConf c = RegistriesConf.load(tmp.resolve("missing.conf"), Optional.of(tmp.resolve("missing.d")));
    assertThat(c.shortNameRegistry("busybox")).isEqualTo("docker.io");
    assertThat(c.endpoints(ref("quay.io/a/b:1"))).containsExactly(new Endpoint("quay.io", "a/b", false, false));
  }

  @Test
  void aFileOfCommentsIsNoConfiguration() throws IOException {
    assertThat(RegistriesConf.onlyComments("# a\n\n   # b = [\n\t\r\n".getBytes())).isTrue();
    assertThat(RegistriesConf.onlyComments("# a\nx = 1 # b\n".getBytes())).isFalse();
    RegistriesConf c = conf("# unqualified-search-registries = [\"a.io\", \"b.io\"]\n");
    assertThat(c.searchRegistries()).isEmpty();
    assertThat(c.registries()).isEmpty();
    assertThat(c.shortNameRegistry("busybox")).isEqualTo("docker.io");
  }

  @Test
  void oneSearchRegistryIsTheShortNameRegistryAndSeveralAreRefusedNamingThem() throws IOException {
    assertThat(conf("unqualified-search-registries = [\"quay.io\"]\n").shortNameRegistry("busybox")).isEqualTo("quay.io");
    RegistriesConf two = conf("unqualified-search-registries = [\"registry.fedoraproject.org\", \"docker.io\"]\n");
    assertThatThrownBy(() -> two.shortNameRegistry("busybox"))
        .isInstanceOf(ImageException.class)
        .hasMessageContaining("ambiguous")
        .hasMessageContaining("registry.fedoraproject.org, docker.io")
        .hasMessageContaining(tmp.resolve("registries.conf").toString());
    assertThat(RegistryReference.isShortName("busybox")).isTrue();
    assertThat(RegistryReference.isShortName("team/app:1")).isTrue();
    assertThat(RegistryReference.isShortName("localhost/app")).isFalse();
    assertThat(RegistryReference.isShortName("quay.io/app")).isFalse();
    assertThat(RegistryReference.isShortName("127.0.0.1:5000/app@sha256:" + "a".repeat(64))).isFalse();
  }

  @Test
  void theLongestMatchingPrefixWinsAtComponentBoundariesAndRewritesTheLocation() throws IOException {
    RegistriesConf c = conf("""
        [[registry]]
        prefix = "example.com"
        location = "one.local:5000"

        [[registry]]
        prefix = "example.com/team"
        location = "two.local/mirrored/team"

        [[registry]]
        location = "plain.io"
        insecure = true
        """);
    assertThat(c.endpoints(ref("example.com/team/app:1")))
        .containsExactly(new Endpoint("two.local", "mirrored/team/app", false, false));
    assertThat(c.endpoints(ref("example.com/teams/app:1"))) // not a component boundary of example.com/team
        .containsExactly(new Endpoint("one.local:5000", "teams/app", false, false));
    assertThat(c.endpoints(ref("example.community/x"))) // nor of example.com
        .containsExactly(new Endpoint("example.community", "x", false, false));
    assertThat(c.endpoints(ref("plain.io/x/y@sha256:" + "b".repeat(64))))
        .containsExactly(new Endpoint("plain.io", "x/y", true, false));
    assertThat(c.find(ref("plain.io/x")).orElseThrow().prefix()).isEqualTo("plain.io"); // prefix defaults to location
  }

  @Test
  void wildcardPrefixesMatchSubdomainsHostOnly() throws IOException {
    RegistriesConf c = conf("""
        [[registry]]
        prefix = "*.example.com"
        insecure = true

        [[registry]]
        prefix = "*.corp.example.com"
        location = "mirror.corp"
        """);
    assertThat(c.endpoints(ref("a.example.com/app"))).containsExactly(new Endpoint("a.example.com", "app", true, false));
    assertThat(c.endpoints(ref("b.a.example.com:5000/app"))).containsExactly(new Endpoint("b.a.example.com:5000", "app", true, false));
    assertThat(c.endpoints(ref("x.corp.example.com:444/app"))) // the longer wildcard wins; the host is rewritten, the port kept
        .containsExactly(new Endpoint("mirror.corp:444", "app", false, false));
    assertThat(c.endpoints(ref("example.com/app"))).containsExactly(new Endpoint("example.com", "app", false, false));
    assertThat(c.endpoints(ref("notexample.com/app"))).containsExactly(new Endpoint("notexample.com", "app", false, false));
    assertThat(RegistriesConf.matchLength("example.com.evil.io/x", "*.example.com")).isEqualTo(-1);
  }

  @Test
  void mirrorsComeFirstInOrderWithTheirOwnInsecureAndPullFromMirror() throws IOException {
    RegistriesConf c = conf("""
        [[registry]]
        prefix = "docker.io"
        location = "docker.io"

        [[registry.mirror]]
        location = "m1.local:5000/hub"
        insecure = true

        [[registry.mirror]]
        location = "m2.local"

        [[registry.mirror]]
        location = "m3.local"
        pull-from-mirror = "digest-only"
        """);
    assertThat(c.endpoints(ref("busybox:1"))).containsExactly(
        new Endpoint("m1.local:5000", "hub/library/busybox", true, true),
        new Endpoint("m2.local", "library/busybox", false, true),
        new Endpoint("docker.io", "library/busybox", false, false));
    assertThat(c.endpoints(ref("busybox@sha256:" + "c".repeat(64)))).extracting(Endpoint::registry)
        .containsExactly("m1.local:5000", "m2.local", "m3.local", "docker.io");
  }

  @Test
  void aBlockedRegistryFailsThePullNamingItAndTheFile() throws IOException {
    RegistriesConf c = conf("""
        [[registry]]
        prefix = "evil.io"
        blocked = true
        [[registry.mirror]]
        location = "fine.io"
        """);
    assertThatThrownBy(() -> c.endpoints(ref("evil.io/app:1")))
        .isInstanceOf(ImageException.class)
        .hasMessageContaining("registry evil.io is blocked in " + tmp.resolve("registries.conf"))
        .hasMessageContaining("evil.io/app:1");
    assertThat(c.endpoints(ref("good.io/app:1"))).hasSize(1);
  }

  @Test
  void dropInsInLexicalOrderOverrideTheFileAndEachOther() throws IOException {
    Path main = write("registries.conf", """
        unqualified-search-registries = ["a.io", "b.io"]
        [[registry]]
        prefix = "x.io"
        location = "x-main.io"
        [[registry]]
        prefix = "y.io"
        blocked = true
        """);
    Path d = tmp.resolve("registries.conf.d");
    write("registries.conf.d/20-second.conf", """
        [[registry]]
        prefix = "x.io"
        location = "x-20.io"
        """);
    write("registries.conf.d/10-first.conf", """
        unqualified-search-registries = ["c.io"]
        [[registry]]
        prefix = "x.io"
        location = "x-10.io"
        """);
    write("registries.conf.d/30-not-conf.txt", "this is = not read [");
    RegistriesConf c = RegistriesConf.load(main, Optional.of(d));
    assertThat(c.shortNameRegistry("app")).isEqualTo("c.io");
    assertThat(c.searchRegistriesFile()).contains(d.resolve("10-first.conf"));
    assertThat(c.endpoints(ref("x.io/app"))).containsExactly(new Endpoint("x-20.io", "app", false, false));
    assertThat(c.find(ref("y.io/app")).orElseThrow().blocked()).isTrue(); // not redefined: kept
  }

  @Test
  void badFilesGetOneLineErrorsNamingTheFileAndKey() throws IOException {
    Path f = tmp.resolve("registries.conf");
    assertBad("[[registry]\nprefix = \"a\"\n", f.toString(), "not valid TOML");
    assertBad("unqualified-search-registries = \"docker.io\"\n", f.toString(),
        "unqualified-search-registries: expected an array, got a string");
    assertBad("unqualified-search-registries = [\"docker.io\", 3]\n", f.toString(),
        "unqualified-search-registries[1]: expected a string, got a number");
    assertBad("unqualified-search-registries = [\"../etc\"]\n", f.toString(), "unqualified-search-registries[0]");
    assertBad("[[registry]]\nprefix = \"a.io\"\ninsecure = \"yes\"\n", f.toString(),
        "registry[0].insecure: expected true or false, got a string");
    assertBad("[[registry]]\nprefix = \"a.io\"\n[[registry]]\nlocation = 5\n", f.toString(),
        "registry[1].location: expected a string, got a number");
    assertBad("[[registry]]\ninsecure = true\n", f.toString(), "registry[0].location: a [[registry]] needs a location or a prefix");
    assertBad("[[registry]]\nlocation = \"a.io\"\n[[registry.mirror]]\ninsecure = true\n", f.toString(),
        "registry[0].mirror[0].location: a mirror needs a location");
    assertBad("[[registry]]\nlocation = \"a.io\"\n[[registry.mirror]]\nlocation = \"Bad Host/x\"\n", f.toString(),
        "registry[0].mirror[0].location: `Bad Host/x` is not host[:port][/path]");
    assertBad("[[registry]]\nlocation = \"a.io\"\n[[registry.mirror]]\nlocation = \"m.io\"\npull-from-mirror = \"sometimes\"\n",
        f.toString(), "registry[0].mirror[0].pull-from-mirror");
    assertBad("registry = 7\n", f.toString(), "registry: expected an array, got a number");
    assertBad("[registries.search]\nregistries = [\"docker.io\"]\n", f.toString(), "registries: the version 1 format");
    // a huge file is refused by its size, not parsed
    Files.write(f, ("# " + "x".repeat(1 << 20) + "\n").getBytes());
    assertThatThrownBy(() -> RegistriesConf.load(f, Optional.empty()))
        .isInstanceOf(ImageException.class)
        .hasMessage("registries.conf " + f + ": larger than 1048576 bytes");
    // a FIFO (which would block a reader) or directory is refused
    Files.delete(f);
    Files.createDirectory(f);
    assertThatThrownBy(() -> RegistriesConf.load(f, Optional.empty())).hasMessageContaining("not a regular file");
  }

  void assertBad(String toml, String file, String expected) throws IOException {
    Path f = write("registries.conf", toml);
    assertThatThrownBy(() -> RegistriesConf.load(f, Optional.empty()))
        .isInstanceOf(ImageException.class)
        .hasMessageStartingWith("registries.conf " + file + ":")
        .hasMessageContaining(expected)
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
  }

  @Test
  void aBadDropInIsNamedNotTheMainFile() throws IOException {
    Path main = write("registries.conf", "unqualified-search-registries = [\"a.io\"]\n");
    write("registries.conf.d/50-bad.conf", "[[registry]]\nprefix = \"a.io\"\nblocked = 1\n");
    assertThatThrownBy(() -> RegistriesConf.load(main, Optional.of(tmp.resolve("registries.conf.d"))))
        .hasMessage("registries.conf " + tmp.resolve("registries.conf.d/50-bad.conf")
            + ": registry[0].blocked: expected true or false, got a number");
  }

  @Test
  void explicitOptionsOverrideTheFile() throws IOException {
    Path f = write("registries.conf", """
        unqualified-search-registries = ["file.io"]
        [[registry]]
        prefix = "docker.io"
        [[registry.mirror]]
        location = "file-mirror.io"
        """);
    PullOptions o = PullOptions.builder().registriesConf(f).registriesConfDir(tmp.resolve("none")).build();
    assertThat(o.registriesConf()).isEqualTo(f);
    assertThat(o.defaultRegistrySet()).isFalse();
    assertThat(o.toBuilder().defaultRegistry("api.io").build().defaultRegistrySet()).isTrue();
    assertThat(List.of(o.hasMirrors("docker.io"), o.toBuilder().mirror("docker.io", "api-mirror.io").build().hasMirrors("docker.io")))
        .containsExactly(false, true);
  }
}
