package dev.berth.network.dns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.ReverseMap;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

/** A network's names: rotation, serving and non-serving entries, what is forwarded, who may ask, bad tables. */
class NameTableTest {
    @TempDir
    Path tmp;

    private static NamesFile.Entry e(String id, String addr, boolean serving, String... names) {
        return new NamesFile.Entry(id, List.of(addr), List.of(names), serving);
    }

    private static NamesFile table(NamesFile.Entry... entries) {
        return new NamesFile(NamesFile.SCHEMA, List.of("10.89.3.1"), List.of("10.89.3.0/24"), List.of(entries));
    }

    private static List<String> answers(NameTable t, String name, int type) throws Exception {
        Message r = t.answer(Message.newQuery(Record.newRecord(Name.fromString(name), type, 1))).orElseThrow();
        List<String> out = new ArrayList<>();
        for (Record x : r.getSection(Section.ANSWER)) {
            out.add(x.rdataToString());
        }
        return out;
    }

    @Test
    void anAliasOfThreeRotatesByOneAtEachQuerySoEachComesFirstInTurn() throws Exception {
        NameTable t = new NameTable(table(e("a", "10.89.3.2", true, "rep-1", "svc"), e("b", "10.89.3.3", true, "rep-2", "svc"),
                e("c", "10.89.3.4", true, "rep-3", "SVC")));
        Set<String> firsts = new HashSet<>();
        for (int i = 0; i < 6; i++) {
            List<String> a = answers(t, "svc.", Type.A);
            assertThat(a).containsExactlyInAnyOrder("10.89.3.2", "10.89.3.3", "10.89.3.4");
            firsts.add(a.get(0));
        }
        assertThat(firsts).hasSize(3);
        assertThat(answers(t, "Svc.", Type.A)).hasSize(3);
        assertThat(answers(t, "rep-2.", Type.A)).containsExactly("10.89.3.3");
    }

    @Test
    void anEntryNotServingIsInNoAnswerAndANameOnlyItHasIsNxdomainNotForwarded() throws Exception {
        NameTable t = new NameTable(table(e("a", "10.89.3.2", true, "rep-1", "svc"), e("b", "10.89.3.3", false, "rep-2", "svc")));
        for (int i = 0; i < 4; i++) {
            assertThat(answers(t, "svc.", Type.A)).containsExactly("10.89.3.2");
        }
        Message r = t.answer(Message.newQuery(Record.newRecord(Name.fromString("rep-2."), Type.A, 1))).orElseThrow();
        assertThat(r.getRcode()).isEqualTo(Rcode.NXDOMAIN);
        assertThat(r.getHeader().getFlag(Flags.AA)).isTrue();
        assertThat(t.answer(Message.newQuery(Record.newRecord(Name.fromString("example.org."), Type.A, 1)))).isEmpty();
    }

    @Test
    void aFamilyANameHasNoneOfIsAnEmptyAnswerAndAddressesMapBack() throws Exception {
        NameTable t = new NameTable(table(e("a", "10.89.3.2", true, "web", "site")));
        Message r = t.answer(Message.newQuery(Record.newRecord(Name.fromString("web."), Type.AAAA, 1))).orElseThrow();
        assertThat(r.getRcode()).isEqualTo(Rcode.NOERROR);
        assertThat(r.getSection(Section.ANSWER)).isEmpty();
        Name rev = ReverseMap.fromAddress(InetAddress.getByName("10.89.3.2"));
        assertThat(answers(t, rev.toString(), Type.PTR)).containsExactly("web.");
        assertThat(t.answer(Message.newQuery(Record.newRecord(ReverseMap.fromAddress("10.1.1.1"), Type.PTR, 1)))).isEmpty();
    }

    @Test
    void onlyHostsOfTheNetworksSubnetsMayAsk() throws Exception {
        NameTable t = new NameTable(table());
        assertThat(t.allowed(InetAddress.getByName("10.89.3.77"))).isTrue();
        assertThat(t.allowed(InetAddress.getByName("10.89.4.7"))).isFalse();
        assertThat(t.allowed(InetAddress.getByName("127.0.0.1"))).isFalse();
    }

    @Test
    void concurrentQueriesEachGetAWholeRotation() throws Exception {
        NameTable t = new NameTable(table(e("a", "10.89.3.2", true, "svc"), e("b", "10.89.3.3", true, "svc")));
        List<Thread> ts = new ArrayList<>();
        java.util.concurrent.ConcurrentLinkedQueue<List<String>> seen = new java.util.concurrent.ConcurrentLinkedQueue<>();
        for (int i = 0; i < 8; i++) {
            Thread th = new Thread(() -> {
                for (int j = 0; j < 100; j++) {
                    seen.add(t.lookup("svc", Type.A).orElseThrow().stream().map(InetAddress::getHostAddress).toList());
                }
            });
            ts.add(th);
            th.start();
        }
        for (Thread th : ts) {
            th.join();
        }
        assertThat(seen).hasSize(800).allMatch(l -> l.size() == 2 && new HashSet<>(l).size() == 2);
        assertThat(seen.stream().filter(l -> l.get(0).equals("10.89.3.2")).count()).isEqualTo(400);
    }

    @Test
    void aBadTableIsRefusedNamingTheFieldAndTheFile() throws Exception {
        assertThatThrownBy(() -> new NameTable(table(e("a", "10.89.3.x", true, "web"))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("entries[0].addresses[0]");
        assertThatThrownBy(() -> new NameTable(table(e("a", "10.89.3.2", true, "bad..name"))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("entries[0].names[0]");
        Path f = tmp.resolve("names.json");
        Files.writeString(f, "{\"schema\":\"other/v9\"}");
        assertThatThrownBy(() -> NamesFile.read(f)).hasMessage(f + ": schema \"other/v9\" is not berth.names/v1");
        Files.writeString(f, "{");
        assertThatThrownBy(() -> NamesFile.read(f)).hasMessageStartingWith(f + ": ");
        table(e("a", "10.89.3.2", true, "web")).write(f);
        assertThat(NamesFile.read(f).entries()).singleElement().satisfies(x -> assertThat(x.serving()).isTrue());
    }
}
