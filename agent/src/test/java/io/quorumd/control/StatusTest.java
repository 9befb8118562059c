package io.quorumd.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quorumd.core.Clearance;
import io.quorumd.core.NodeView;
import io.quorumd.core.Role;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StatusTest {
    static Status master() {
        return new Status("payments", "node-a", Role.MASTER, 7, "node-a", "node-a", 812L, true,
                "198.18.0.11:51621", "5f3c9a1e7d2b4c60", 3_723_000, Status.StorageStatus.OK,
                List.of(new Status.PeerStatus("node-b", "up", 45L, 7), new Status.PeerStatus("node-c", "never", null, 0)),
                new Status.CommandStatus("running", 4242L, 7L, 1),
                Map.of("wrong-cluster", 3L, "undecodable", 12L), new Status.ClearedBy("certificate", "node-b", 6L));
    }

    static Status follower() {
        return new Status("payments", "node-b", Role.FOLLOWER, 3, null, null, null, false, null, null, 10,
                new Status.StorageStatus(false, "cannot write state file /var/lib/quorumd/state: No space left on device"),
                List.of(), Status.CommandStatus.NONE, Map.of());
    }

    @Test
    void jsonHasTheSpecKeysWithTheirTypes() {
        Map<?, ?> m = assertInstanceOf(Map.class, Json.parse(master().toJson()));
        assertEquals("payments", m.get("cluster"));
        assertEquals("node-a", m.get("node"));
        assertEquals("master", m.get("role"));
        assertEquals(7L, m.get("term"));
        assertEquals("node-a", m.get("master"));
        assertEquals(812L, m.get("lease_ms"));
        List<?> peers = assertInstanceOf(List.class, m.get("peers"));
        assertEquals(Map.of("id", "node-b", "state", "up", "last_contact_ms", 45L, "term", 7L), peers.get(0));
        Map<?, ?> never = assertInstanceOf(Map.class, peers.get(1));
        assertTrue(never.containsKey("last_contact_ms"));
        assertNull(never.get("last_contact_ms"));
        assertEquals(Map.of("state", "running", "pid", 4242L, "term", 7L, "restarts", 1L), m.get("command"));
        assertEquals(Map.of("undecodable", 12L, "wrong-cluster", 3L), m.get("dropped"));
        assertEquals("certificate", m.get("cleared_by"));
        assertEquals("node-b", m.get("old_master"));
        assertEquals(6L, m.get("old_master_term"));
        assertEquals(List.of("cluster", "node", "role", "term", "voted_for", "master", "lease_ms", "command_permitted",
                "cleared_by", "old_master", "old_master_term", "cleared_ms_ago", "cleared_after_ms", "bind", "boot_id", "uptime_ms", "storage", "peers", "command", "dropped"), List.copyOf(m.keySet()));
    }

    @Test
    void absentValuesAreNullNotMissing() {
        String json = follower().toJson();
        assertTrue(json.contains("\"master\":null,\"lease_ms\":null"), json);
        assertTrue(json.contains("\"command\":{\"state\":\"none\",\"pid\":null,\"term\":null,\"restarts\":0}"), json);
        assertTrue(json.contains("\"storage\":{\"healthy\":false,\"error\":\"cannot write"), json);
        assertTrue(json.endsWith("\"peers\":[],\"command\":{\"state\":\"none\",\"pid\":null,\"term\":null,\"restarts\":0},\"dropped\":{}}"), json);
    }

    @Test
    void jsonRoundTrips() {
        assertEquals(master(), Status.fromJson(master().toJson()));
        assertEquals(follower(), Status.fromJson(follower().toJson()));
        String extra = master().toJson().replaceFirst("\\{", "{\"added_later\":[1,2],");
        assertEquals(master(), Status.fromJson(extra), "unknown keys are ignored");
        String older = master().toJson().replace("\"cleared_by\":\"certificate\",\"old_master\":\"node-b\",\"old_master_term\":6,", "");
        assertTrue(!older.contains("cleared_by"), older);
        assertNull(Status.fromJson(older).clearedBy(), "an older agent's answer has no cleared_by");
        JsonException e = assertThrows(JsonException.class,
                () -> Status.fromJson(master().toJson().replace("\"term\":7,", "\"term\":\"7\",")));
        assertEquals("status: \"term\" should be a Long (got \"7\")", e.getMessage());
        assertThrows(JsonException.class, () -> Status.fromJson(master().toJson().replace("\"role\":\"master\"", "\"role\":\"boss\"")));
    }

    @Test
    void theStoresFiguresFollowTheDroppedCountsAndRoundTrip() {
        Status s = master().withStore(new Status.StoreStatus(42, 1, 117, 58));
        Map<?, ?> m = assertInstanceOf(Map.class, Json.parse(s.toJson()));
        assertEquals(Map.of("revision", 42L, "keys", 1L, "size_bytes", 117L, "applied_index", 58L), m.get("store"));
        assertEquals("store", List.copyOf(m.keySet()).get(m.size() - 1), "a key added after dropped");
        assertEquals(s, Status.fromJson(s.toJson()));
        assertNull(Status.fromJson(master().toJson()).store(), "an older agent's answer has no store");
        assertTrue(s.toTable().contains("\nstore    revision 42, 1 key, 117 bytes, log applied to index 58\n"), s.toTable());
        assertTrue(master().withStore(new Status.StoreStatus(0, 3, 9, 0)).toTable().contains("3 keys, 9 bytes"));
        JsonException e = assertThrows(JsonException.class,
                () -> Status.fromJson(s.toJson().replace("\"applied_index\":58", "\"applied_index\":\"58\"")));
        assertEquals("status: \"applied_index\" should be a Long (got \"58\")", e.getMessage());
    }

    @Test
    void tableIsAligned() {
        assertEquals("""
                cluster  payments
                node     node-a (bind 198.18.0.11:51621, boot id 5f3c9a1e7d2b4c60, up 1h02m03s)
                role     master
                term     7 (voted for node-a)
                master   node-a
                lease    812 ms left
                cleared  by certificate of node-b (term 6)
                command  running, pid 4242, term 7, restarts 1
                storage  ok
                dropped  undecodable 12, wrong-cluster 3

                PEER    STATE  LAST CONTACT  TERM
                node-b  up     45 ms ago     7
                node-c  never  never         0
                """, master().toTable());
        assertEquals("""
                cluster  payments
                node     node-b (bind -, boot id -, up 10 ms)
                role     follower
                term     3 (no vote)
                master   none known
                command  none configured
                storage  FAILING: cannot write state file /var/lib/quorumd/state: No space left on device
                dropped  none
                """, follower().toTable());
    }

    @Test
    void fromTheCoresView() {
        long now = 1_000_000_000_000L;
        NodeView v = new NodeView("node-a", Role.MASTER, 9, "node-a", "node-a", now + 640_500_000L, false, now + 5_000_000_000L,
                false, true, List.of(new NodeView.PeerView("node-a", 0, 9, "up"),
                new NodeView.PeerView("node-b", 120_000_000L, 9, "up"), new NodeView.PeerView("node-c", -1, 0, "never")));
        Status s = Status.of(v, now, "payments", "127.0.0.1:51621", "abcd", 5000, null,
                new Status.CommandStatus("waiting", null, null, 0), Map.of("bad-version", 2L));
        assertEquals(640L, s.leaseMillis());
        assertEquals(List.of(new Status.PeerStatus("node-b", "up", 120L, 9), new Status.PeerStatus("node-c", "never", null, 0)),
                s.peers(), "this node is not its own peer");
        assertEquals(Status.StorageStatus.OK, s.storage());
        assertTrue(s.toTable().contains("permission  waiting: the old master's command may still run"), s.toTable());
        assertNull(s.clearedBy());

        NodeView c = new NodeView("node-a", Role.MASTER, 9, "node-a", "node-a", now + 640_500_000L, true, -1,
                true, true, List.of(), new Clearance(Clearance.By.LEASE_EXPIRY, "node-c", 8, "waited"));
        Status cs = Status.of(c, now, "payments", null, null, 1, null, Status.CommandStatus.NONE, Map.of());
        assertEquals(new Status.ClearedBy("lease_expiry", "node-c", 8L), cs.clearedBy(), "a view without when");
        assertTrue(cs.toJson().contains("\"cleared_by\":\"lease_expiry\",\"old_master\":\"node-c\",\"old_master_term\":8,"
                + "\"cleared_ms_ago\":null,\"cleared_after_ms\":null,"), cs.toJson());

        // when: became master 5.2 s ago, cleared by the hand-over 40 ms later
        NodeView w = new NodeView("node-a", Role.MASTER, 9, "node-a", "node-a", now + 640_500_000L, true, -1,
                true, true, List.of(), new Clearance(Clearance.By.HANDOVER, "node-c", 8, "hand-over"),
                now - 5_200_000_000L, now - 5_160_000_000L);
        Status ws = Status.of(w, now, "payments", null, null, 1, null, Status.CommandStatus.NONE, Map.of());
        assertEquals(new Status.ClearedBy("handover", "node-c", 8L, 5160L, 40L), ws.clearedBy());
        assertTrue(ws.toJson().contains("\"cleared_ms_ago\":5160,\"cleared_after_ms\":40,"), ws.toJson());
        assertEquals(ws, Status.fromJson(ws.toJson()), "when survives the JSON");
        assertTrue(ws.toTable().contains("\ncleared  by handover of node-c (term 8), 5.2 s ago, 40 ms after it became master\n"),
                ws.toTable());
        Status older = Status.fromJson(cs.toJson().replace("\"cleared_ms_ago\":null,\"cleared_after_ms\":null,", ""));
        assertEquals(new Status.ClearedBy("lease_expiry", "node-c", 8L), older.clearedBy(), "an older agent's answer has no when");

        NodeView f = new NodeView("node-a", Role.FOLLOWER, 9, null, "node-b", -1, false, -1, false, false, List.of());
        Status fs = Status.of(f, now, "payments", null, null, 1, "disk full", Status.CommandStatus.NONE, Map.of());
        assertNull(fs.leaseMillis());
        assertEquals(new Status.StorageStatus(false, "disk full"), fs.storage());
        assertTrue(fs.toTable().contains("\nstorage  FAILING: disk full\n"), fs.toTable());
    }

    @Test
    void durations() {
        assertEquals("0 ms", Status.duration(0));
        assertEquals("999 ms", Status.duration(999));
        assertEquals("1.0 s", Status.duration(1000));
        assertEquals("59.9 s", Status.duration(59_949));
        assertEquals("1m00s", Status.duration(60_000));
        assertEquals("59m59s", Status.duration(3_599_999));
        assertEquals("26h00m00s", Status.duration(26 * 3_600_000L));
    }
}
