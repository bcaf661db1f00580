package dev.berth.core.internal.user;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class UserDatabaseTest {
    private static final String PASSWD = """
            root:x:0:0:root:/root:/bin/sh
            alice:x:1000:1000:Alice:/home/alice:/bin/sh
            bob:x:1001:100::relative/home:/bin/sh
            """;
    private static final String GROUP = """
            root:x:0:
            users:x:100:bob
            staff:x:50:alice,bob
            audio:x:29:alice
            alice:x:1000:
            """;

    private final UserDatabase db = UserDatabase.parse(PASSWD, GROUP);

    @Test
    void namedUserGetsPrimaryAndSupplementaryGroups() {
        assertThat(db.resolve("alice")).isEqualTo(new ResolvedUser(1000, 1000, List.of(50L, 29L), "/home/alice"));
    }

    @Test
    void numericUserLooksUpItsEntry() {
        assertThat(db.resolve("1000").gid()).isEqualTo(1000);
        assertThat(db.resolve("1000").home()).isEqualTo("/home/alice");
    }

    @Test
    void unknownNumericUserRunsWithGidZeroLikeDocker() {
        assertThat(db.resolve("4242")).isEqualTo(new ResolvedUser(4242, 0, List.of(), "/"));
    }

    @Test
    void explicitGroupByNameOrNumberAndNoSupplementaryGroups() {
        assertThat(db.resolve("alice:staff")).isEqualTo(new ResolvedUser(1000, 50, List.of(), "/home/alice"));
        assertThat(db.resolve("alice:7")).isEqualTo(new ResolvedUser(1000, 7, List.of(), "/home/alice"));
    }

    @Test
    void relativeHomeFallsBackToRoot() {
        assertThat(db.resolve("bob").home()).isEqualTo("/");
    }

    @Test
    void unknownNamesAreErrorsNamingThem() {
        assertThatThrownBy(() -> db.resolve("mallory")).hasMessage("user \"mallory\": no such user in /etc/passwd");
        assertThatThrownBy(() -> db.resolve("alice:wheel")).hasMessage("group \"wheel\": no such group in /etc/group");
    }

    @Test
    void hostileFilesAreParsedSafely() {
        String hostile = "\0\0\0\n"
                + "x".repeat(200_000) + ":x:0:0::/:/bin/sh\n"       // absurdly long line
                + "evil:x:-1:0::/:/bin/sh\n"                        // negative id
                + "evil2:x:99999999999:0::/:/bin/sh\n"               // out of range
                + "evil3:x:4294967295:0::/:/bin/sh\n"                // (uid_t)-1 is reserved
                + "short:x:5\n"                                      // missing fields
                + ":x:6:6::/:/bin/sh\n"                              // empty name
                + "crlf:x:7:7::/crlf:/bin/sh\r\n"
                + "#comment:x:8:8::/:/bin/sh\n"
                + "ok:x:9:9::/ok:/bin/sh";
        UserDatabase d = UserDatabase.parse(hostile, "g:x:notanumber:ok\nmembers:x:10:,,ok,,\n");
        assertThat(d.userByName("evil")).isEmpty();
        assertThat(d.userByName("evil2")).isEmpty();
        assertThat(d.userByName("evil3")).isEmpty();
        assertThat(d.userByName("short")).isEmpty();
        assertThat(d.userByName("#comment")).isEmpty();
        assertThat(d.userByName("crlf")).get().extracting(PasswdEntry::home).isEqualTo("/crlf");
        assertThat(d.resolve("ok")).isEqualTo(new ResolvedUser(9, 9, List.of(10L), "/ok"));
        assertThatThrownBy(() -> d.resolve("evil")).hasMessageContaining("no such user");
    }

    @Test
    void parseIdBounds() {
        assertThat(UserDatabase.parseId("0")).isZero();
        assertThat(UserDatabase.parseId("4294967294")).isEqualTo(4294967294L);
        assertThat(UserDatabase.parseId("4294967295")).isEqualTo(-1);
        assertThat(UserDatabase.parseId("+1")).isEqualTo(-1);
        assertThat(UserDatabase.parseId("")).isEqualTo(-1);
    }
}
