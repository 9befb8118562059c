package io.quorumd;

import io.quorumd.config.Config;
import io.quorumd.config.ConfigLoader;
import io.quorumd.kv.KvCommand;
import io.quorumd.kv.KvCommandCodec;
import io.quorumd.kv.KvMachine;
import io.quorumd.log.LogEntry;
import io.quorumd.storage.LogStorage;
import io.quorumd.storage.SnapshotStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The agent's start over the store's durable state (SnapshotStore, then LogStorage, then the log):
 * entries come back, a torn tail is cut, a damaged log or snapshot stops the start for an operator.
 */
class AgentLogStartTest {
    @TempDir
    Path dir;

    private Config config() throws Exception {
        Files.createDirectories(dir.resolve("a"));   // the agent's state dir lock creates it first
        return ConfigLoader.load(TestAgents.configFile(dir, "a", "  - {id: a, host: 127.0.0.1, port: 40000}\n",
                "{heartbeat: 100ms, election_timeout: 1s}", ""));
    }

    private static List<LogEntry> entries(int n) {
        List<LogEntry> l = new ArrayList<>();
        l.add(new LogEntry(1, 1, new byte[0]));
        for (int i = 2; i <= n; i++) l.add(new LogEntry(i, 1, KvCommandCodec.encode(KvCommand.put("k" + i, "v" + i))));
        return l;
    }

    private void write(int n) throws Exception {
        try (LogStorage s = LogStorage.open(dir.resolve("a"), 0, LogStorage.DEFAULT_SEGMENT_BYTES).storage()) {
            s.append(entries(n));
            s.sync();
        }
    }

    private Path segment() throws Exception {
        try (Stream<Path> files = Files.list(dir.resolve("a").resolve(LogStorage.DIR_NAME))) {
            return files.sorted().reduce((a, b) -> b).orElseThrow();
        }
    }

    @Test
    void theEntriesComeBackUncommittedAndATornTailIsCut() throws Exception {
        Config c = config();
        AgentFactory.StoredLog fresh = AgentFactory.openLog(c);
        assertEquals(0, fresh.log().lastIndex());
        fresh.storage().close();

        write(5);
        long size = Files.size(segment());
        try (FileChannel ch = FileChannel.open(segment(), StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {1, 2, 3}));   // a crash mid-write
        }
        AgentFactory.StoredLog s = AgentFactory.openLog(c);
        assertEquals(5, s.log().lastIndex());
        assertEquals(0, s.log().commitIndex(), "committed again once a master of this run says so");
        assertEquals(0, s.machine().revision());
        assertEquals(size, Files.size(segment()), "the torn tail is cut");
        s.storage().close();
    }

    @Test
    void aDamagedLogStopsTheStartForAnOperator() throws Exception {
        write(5);
        byte[] b = Files.readAllBytes(segment());
        b[b.length / 2] ^= 0x55;   // a record in the middle: not a torn tail
        Files.write(segment(), b);
        AgentFactory.StartupException e = assertThrows(AgentFactory.StartupException.class, () -> AgentFactory.openLog(config()));
        assertTrue(e.needsOperator(), "exit 2: not restarted over and over");
        assertTrue(e.getMessage().contains("replicated log") && e.getMessage().contains("is corrupt"), e.getMessage());
        assertTrue(e.getMessage().contains("does not drop a log by itself"), e.getMessage());
    }

    @Test
    void theStoreStartsFromItsSnapshotAndADamagedOneStopsTheStart() throws Exception {
        KvMachine m = new KvMachine(config().kv().limits());
        m.apply(1, 1, KvCommand.put("a", "1"));
        m.apply(2, 1, KvCommand.put("b", "2"));
        new SnapshotStore(dir.resolve("a")).store(new SnapshotStore.Snapshot(2, 1, m.snapshot()));
        AgentFactory.StoredLog s = AgentFactory.openLog(config());
        assertEquals(2, s.machine().revision());
        assertEquals(2, s.log().baseIndex());
        assertEquals(2, s.log().commitIndex());
        s.storage().close();

        Path snap;
        try (Stream<Path> files = Files.list(dir.resolve("a"))) {
            snap = files.filter(p -> p.getFileName().toString().startsWith("snapshot-")).findFirst().orElseThrow();
        }
        byte[] b = Files.readAllBytes(snap);
        b[b.length - 1] ^= 0x01;
        Files.write(snap, b);
        AgentFactory.StartupException e = assertThrows(AgentFactory.StartupException.class, () -> AgentFactory.openLog(config()));
        assertTrue(e.needsOperator());
        assertTrue(e.getMessage().contains("snapshot"), e.getMessage());
    }

    /** The store after entries 2..n of {@link #entries} (entry 1 a no-op), snapshotted at n with term {@code term}. */
    private void snapshot(int n, long term) throws Exception {
        KvMachine m = new KvMachine(config().kv().limits());
        for (LogEntry e : entries(n)) m.apply(e.index(), e.term(), KvCommandCodec.decode(e.payload()));
        new SnapshotStore(dir.resolve("a")).store(new SnapshotStore.Snapshot(n, term, m.snapshot()));
    }

    @Test
    void theSnapshotAndTheStoredEntriesThatFollowItComeBack() throws Exception {
        write(10);
        snapshot(6, 1);   // the compaction after it did not happen (or did not reach this segment)
        AgentFactory.StoredLog s = AgentFactory.openLog(config());
        assertEquals(6, s.log().baseIndex());
        assertEquals(1, s.log().baseTerm());
        assertEquals(10, s.log().lastIndex(), "entries 7..10 follow the snapshot: kept");
        assertEquals(6, s.log().commitIndex());
        assertEquals(5, s.machine().keyCount(), "k2..k6 from the snapshot");
        assertEquals(6, s.machine().appliedIndex());
        assertEquals(6, s.baseIndex());
        s.storage().close();
        // and again: the same
        AgentFactory.StoredLog again = AgentFactory.openLog(config());
        assertEquals(10, again.log().lastIndex());
        again.storage().close();
    }

    @Test
    void aStoredLogThatDoesNotFollowTheSnapshotIsDropped() throws Exception {
        write(10);    // entry 6 has term 1
        snapshot(6, 2);   // installed from a master whose entry 6 has term 2: the stored log diverged
        AgentFactory.StoredLog s = AgentFactory.openLog(config());
        assertEquals(6, s.log().baseIndex());
        assertEquals(2, s.log().baseTerm());
        assertEquals(6, s.log().lastIndex(), "entries 7..10 of the old log are gone");
        assertEquals(6, s.storage().lastIndex());
        // the next entry after the snapshot is written where it belongs
        s.storage().append(List.of(new LogEntry(7, 2, new byte[0])));
        s.storage().sync();
        s.storage().close();
        AgentFactory.StoredLog again = AgentFactory.openLog(config());
        assertEquals(7, again.log().lastIndex());
        assertEquals(2, again.log().lastTerm());
        again.storage().close();
    }

    @Test
    void aStoredLogThatEndsBeforeTheSnapshotIsDropped() throws Exception {
        write(4);
        snapshot(9, 3);   // received from the master while this log held only 1..4
        AgentFactory.StoredLog s = AgentFactory.openLog(config());
        assertEquals(9, s.log().baseIndex());
        assertEquals(9, s.log().lastIndex());
        assertEquals(8, s.machine().keyCount());
        s.storage().close();
        try (Stream<Path> files = Files.list(dir.resolve("a").resolve(LogStorage.DIR_NAME))) {
            assertEquals(0, files.count(), "the covered segment is deleted");
        }
    }
}
