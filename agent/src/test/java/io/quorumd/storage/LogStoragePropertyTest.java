package io.quorumd.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quorumd.log.LogEntry;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Random appends, syncs, truncations, compactions, clean restarts and crashes (a tail of unsynced
 * bytes cut off at a random byte) against a plain list: after every reopen the storage holds
 * exactly the model's entries, or after a crash a prefix of them that keeps everything that was
 * fsynced. A failure prints the seed and the operations that led to it.
 */
class LogStoragePropertyTest {
    private static final int SEEDS = Integer.getInteger("quorumd.log.seeds", 50);
    private static final int STEPS = 200;

    @TempDir Path tmp;

    /**
     * The crashes here are modelled (the unsynced tail cut off), not left to the kernel, so the
     * test runs on tmpfs when there is one: a few thousand fsyncs on a shared disk would take it
     * from seconds to a minute. The other storage tests use the real disk.
     */
    @Test
    void randomOperationsAgreeWithASimpleModel() throws Exception {
        Path shm = Path.of("/dev/shm");
        Path root = Files.isDirectory(shm) && Files.isWritable(shm) ? Files.createTempDirectory(shm, "quorumd-log-") : tmp;
        try {
            for (long seed = 1; seed <= SEEDS; seed++) run(seed, root.resolve("seed-" + seed));
        } finally {
            if (!root.equals(tmp)) deleteTree(root);
        }
    }

    private static void deleteTree(Path root) throws java.io.IOException {
        try (java.util.stream.Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }

    private static final class Run {
        final long seed;
        final StringBuilder trace = new StringBuilder();
        final List<LogEntry> model = new ArrayList<>();   // the entries after the base
        long base;
        long durable;
        long term = 1;
        Path syncedFile;      // the last segment as of the last point everything was fsynced
        long syncedSize;

        Run(long seed) {
            this.seed = seed;
        }

        long last() {
            return base + model.size();
        }

        String where() {
            return "seed " + seed + " (-Dquorumd.log.seeds), after:" + trace;
        }

        void markSynced(LogStorage s) throws Exception {
            List<Path> files = s.segmentFiles();
            syncedFile = files.isEmpty() ? null : files.get(files.size() - 1);
            syncedSize = syncedFile == null ? 0 : Files.size(syncedFile);
        }
    }

    private static void run(long seed, Path dir) throws Exception {
        Random rnd = new Random(seed);
        long segmentBytes = 100 + rnd.nextInt(700);
        Run r = new Run(seed);
        LogStorage s = LogStorage.open(dir, 0, segmentBytes).storage();
        try {
            for (int step = 0; step < STEPS; step++) {
                int op = rnd.nextInt(100);
                if (op < 40) {
                    int k = 1 + rnd.nextInt(5);
                    if (rnd.nextInt(4) == 0) r.term++;
                    List<LogEntry> batch = new ArrayList<>();
                    for (int i = 0; i < k; i++) {
                        byte[] p = new byte[rnd.nextInt(80)];
                        rnd.nextBytes(p);
                        batch.add(new LogEntry(r.last() + 1 + i, r.term, p));
                    }
                    r.trace.append(" append ").append(r.last() + 1).append("..").append(r.last() + k).append("@").append(r.term);
                    s.append(batch);
                    r.model.addAll(batch);
                } else if (op < 60) {
                    r.trace.append(" sync");
                    assertEquals(r.last(), s.sync(), r.where());
                    r.durable = r.last();
                    r.markSynced(s);
                } else if (op < 70) {
                    if (r.last() == r.base) continue;
                    long from = r.base + 1 + rnd.nextInt((int) (r.last() - r.base) + 1);
                    r.trace.append(" truncate ").append(from);
                    s.truncateSuffix(from);
                    if (from <= r.last()) {   // at the end it removes nothing and fsyncs nothing
                        r.model.subList((int) (from - r.base - 1), r.model.size()).clear();
                        r.durable = from - 1;
                        assertEquals(r.durable, s.durableIndex(), r.where());
                        r.markSynced(s);
                    }
                } else if (op < 78) {
                    if (r.durable <= r.base) continue;
                    long upTo = r.base + 1 + rnd.nextInt((int) (r.durable - r.base));   // a snapshot of durable entries
                    r.trace.append(" compact ").append(upTo);
                    s.compactPrefix(upTo);
                    r.model.subList(0, (int) (upTo - r.base)).clear();
                    r.base = upTo;
                    r.markSynced(s);
                    List<Path> files = s.segmentFiles();
                    if (!files.isEmpty()) {
                        long first = Long.parseLong(files.get(0).getFileName().toString().substring(8, 28));
                        assertTrue(first <= r.base + 1, "the first segment starts at " + first + ": " + r.where());
                    }
                } else if (op < 88) {
                    r.trace.append(" reopen");
                    s.close();
                    LogStorage.Opened o = LogStorage.open(dir, r.base, segmentBytes);
                    s = o.storage();
                    assertEquals(r.model, o.entries(), r.where());
                    assertTrue(o.notes().isEmpty(), o.notes() + ": " + r.where());
                    r.durable = r.last();
                    r.markSynced(s);
                } else {
                    s.close();
                    List<Path> files = s.segmentFiles();
                    long cutAt = -1;
                    if (!files.isEmpty()) {
                        Path lastFile = files.get(files.size() - 1);
                        long lower = lastFile.equals(r.syncedFile) ? r.syncedSize : LogSegment.HEADER_BYTES;
                        long size = Files.size(lastFile);
                        if (size > lower) {
                            cutAt = lower + (long) rnd.nextInt((int) (size - lower + 1));
                            try (FileChannel ch = FileChannel.open(lastFile, StandardOpenOption.WRITE)) {
                                ch.truncate(cutAt);
                            }
                        }
                    }
                    r.trace.append(" crash(cut ").append(cutAt).append(")");
                    LogStorage.Opened o = LogStorage.open(dir, r.base, segmentBytes);
                    s = o.storage();
                    List<LogEntry> got = o.entries();
                    assertTrue(got.size() <= r.model.size() && got.equals(r.model.subList(0, got.size())),
                            "not a prefix of what was written: " + r.where());
                    assertTrue(r.base + got.size() >= r.durable, "lost fsynced entries (had " + r.durable + ", got "
                            + (r.base + got.size()) + "): " + r.where());
                    for (String n : o.notes()) assertTrue(n.contains("torn tail"), n + ": " + r.where());
                    r.model.subList(got.size(), r.model.size()).clear();
                    r.term = r.model.isEmpty() ? r.term : r.model.get(r.model.size() - 1).term();
                    r.durable = r.last();
                    r.markSynced(s);
                }
                assertEquals(r.last(), s.lastIndex(), r.where());
                assertTrue(s.durableIndex() >= r.durable && s.durableIndex() <= r.last(),
                        "durable index " + s.durableIndex() + ", expected in [" + r.durable + ", " + r.last() + "]: " + r.where());
            }
            s.close();
            LogStorage.Opened o = LogStorage.open(dir, r.base, segmentBytes);
            o.storage().close();
            assertEquals(r.model, o.entries(), r.where());
        } finally {
            s.close();
        }
    }
}
