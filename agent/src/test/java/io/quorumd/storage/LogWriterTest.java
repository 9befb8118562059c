package io.quorumd.storage;

import io.quorumd.core.Effect;
import io.quorumd.core.Event;
import io.quorumd.log.LogEntry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The log writer on a real directory, through the {@link Disk} seam's journal: a batch of queued
 * writes is made durable with one fsync, acknowledged in order and only after it; a truncation is
 * applied before the appends that follow it; a failed write acknowledges nothing, then or later.
 */
class LogWriterTest {
    @TempDir
    Path dir;

    private static LogEntry e(long index, long term) {
        return new LogEntry(index, term, ("entry " + index).getBytes(StandardCharsets.UTF_8));
    }

    private static long forces(List<String> journal) {
        return journal.stream().filter(l -> l.startsWith("FORCE ")).count();
    }

    private static long take(LinkedBlockingQueue<Event> q) throws InterruptedException {
        Event ev = q.poll(10, TimeUnit.SECONDS);
        assertNotNull(ev, "an acknowledgement in time");
        return ((Event.LogPersisted) ev).seq();
    }

    @Test
    void oneFsyncCoversEveryWriteQueuedDuringTheLastOne() throws Exception {
        FaultyDisk disk = new FaultyDisk();
        LogStorage storage = LogStorage.open(dir, 0, LogStorage.DEFAULT_SEGMENT_BYTES, disk).storage();
        disk.journalSinceLast();
        LinkedBlockingQueue<Event> acks = new LinkedBlockingQueue<>();
        CountDownLatch firstDelivered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        LogWriter w = new LogWriter(storage, ev -> {
            acks.add(ev);
            if (((Event.LogPersisted) ev).seq() == 1) {
                firstDelivered.countDown();
                try {
                    release.await();   // the writer thread is held here: what comes meanwhile queues up
                } catch (InterruptedException x) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        try {
            w.submit(new Effect.PersistLog(1, 0, List.of(e(1, 1))));
            assertTrue(firstDelivered.await(10, TimeUnit.SECONDS));
            List<String> first = disk.journalSinceLast();
            assertTrue(forces(first) >= 1, first.toString());
            for (int i = 2; i <= 11; i++) w.submit(new Effect.PersistLog(i, 0, List.of(e(i, 1))));
            release.countDown();
            List<Long> seqs = new ArrayList<>();
            for (int i = 1; i <= 11; i++) seqs.add(take(acks));
            assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L, 11L), seqs, "in order, each once");
            List<String> batch = disk.journalSinceLast();
            assertEquals(1, forces(batch), "ten writes, one fsync: " + batch);
            assertEquals(2, w.batches());
            assertEquals(11, w.writes());
            assertEquals(11, storage.durableIndex());
        } finally {
            w.close();
        }
        LogStorage.Opened again = LogStorage.open(dir, 0, LogStorage.DEFAULT_SEGMENT_BYTES);
        assertEquals(11, again.entries().size());
        again.storage().close();
    }

    @Test
    void aTruncationComesBeforeTheAppendsAfterIt() throws Exception {
        LinkedBlockingQueue<Event> acks = new LinkedBlockingQueue<>();
        LogWriter w = new LogWriter(LogStorage.open(dir, 0, LogStorage.DEFAULT_SEGMENT_BYTES).storage(), acks::add);
        try {
            w.submit(new Effect.PersistLog(1, 0, List.of(e(1, 1), e(2, 1), e(3, 1))));
            w.submit(new Effect.PersistLog(2, 2, List.of(e(2, 2))));
            assertEquals(1, take(acks));
            assertEquals(2, take(acks));
        } finally {
            w.close();
        }
        LogStorage.Opened again = LogStorage.open(dir, 0, LogStorage.DEFAULT_SEGMENT_BYTES);
        assertEquals(List.of(e(1, 1).index(), 2L), again.entries().stream().map(LogEntry::index).toList());
        assertEquals(2, again.entries().get(1).term());
        again.storage().close();
    }

    private static Event next(LinkedBlockingQueue<Event> q) throws InterruptedException {
        Event ev = q.poll(10, TimeUnit.SECONDS);
        assertNotNull(ev, "an answer in time");
        return ev;
    }

    private LogStorage reopen(long base) throws java.io.IOException {
        try {
            return LogStorage.open(dir, base, LogStorage.DEFAULT_SEGMENT_BYTES).storage();
        } catch (LogCorruptException e) {
            throw new java.io.IOException(e);
        }
    }

    @Test
    void aFailedFsyncAcknowledgesNothingThenOrLaterUntilTheCoresRewrite() throws Exception {
        FaultyDisk disk = new FaultyDisk();
        LogStorage storage = LogStorage.open(dir, 0, LogStorage.DEFAULT_SEGMENT_BYTES, disk).storage();
        LinkedBlockingQueue<Event> acks = new LinkedBlockingQueue<>();
        LogWriter w = new LogWriter(storage, 0, this::reopen, acks::add);
        try {
            w.submit(new Effect.PersistLog(1, 0, List.of(e(1, 1))));
            assertEquals(1, take(acks));
            assertTrue(w.healthy());
            assertNull(w.lastError());
            disk.failNext(FaultyDisk.Op.FORCE, "");
            w.submit(new Effect.PersistLog(2, 0, List.of(e(2, 1))));
            Event f2 = next(acks);
            assertEquals(new Event.LogPersistFailed(2, w.lastError()), f2);
            assertFalse(w.healthy());
            assertTrue(w.lastError().contains(FaultyDisk.EIO), w.lastError());
            assertEquals(1, w.failures());
            // not the core's rewrite (no truncation, or one past the stored end + 1): refused too
            w.submit(new Effect.PersistLog(3, 0, List.of(e(3, 1))));
            assertTrue(next(acks) instanceof Event.LogPersistFailed x && x.seq() == 3);
            w.submit(new Effect.PersistLog(4, 5, List.of(e(5, 1))));
            assertTrue(next(acks) instanceof Event.LogPersistFailed x && x.seq() == 4);
            assertFalse(w.healthy());
            // the rewrite from the durable index + 1: the log is reopened, cut, written and synced
            w.submit(new Effect.PersistLog(5, 2, List.of(e(2, 2), e(3, 2))));
            assertEquals(new Event.LogPersisted(5), next(acks));
            assertTrue(w.healthy());
            assertNull(w.lastError());
            w.submit(new Effect.PersistLog(6, 0, List.of(e(4, 2))));
            assertEquals(new Event.LogPersisted(6), next(acks));
        } finally {
            w.close();
        }
        LogStorage.Opened again = LogStorage.open(dir, 0, LogStorage.DEFAULT_SEGMENT_BYTES);
        assertEquals(List.of(e(1, 1), e(2, 2), e(3, 2), e(4, 2)), again.entries());
        again.storage().close();
    }

    @Test
    void compactionRunsInOrderAfterTheWritesBeforeItAndDiscardAllEmptiesTheLog() throws Exception {
        LinkedBlockingQueue<Event> acks = new LinkedBlockingQueue<>();
        long segBytes = 200;   // a few entries per segment
        LogStorage storage = LogStorage.open(dir, 0, segBytes).storage();
        LogWriter w = new LogWriter(storage, 0, this::reopen, acks::add);
        try {
            List<LogEntry> batch = new ArrayList<>();
            for (int i = 1; i <= 30; i++) batch.add(e(i, 1));
            w.submit(new Effect.PersistLog(1, 0, batch));
            w.compact(new Effect.CompactLog(20, 1, false));
            assertEquals(1, take(acks));
            w.submit(new Effect.PersistLog(2, 0, List.of(e(31, 1))));
            assertEquals(2, take(acks));
            List<Path> files;
            try (var s = java.nio.file.Files.list(dir.resolve(LogStorage.DIR_NAME))) {
                files = s.sorted().toList();
            }
            LogStorage.Opened o = LogStorage.open(dir, 20, segBytes);
            assertTrue(o.entries().get(0).index() == 21 && o.entries().get(o.entries().size() - 1).index() == 31,
                    o.entries().toString());
            o.storage().close();
            assertTrue(files.size() < 10, "segments wholly at or below 20 are gone: " + files);
            // a snapshot at 40 from the master replaced a log that did not match it: every entry goes
            w.compact(new Effect.CompactLog(25, 1, true));
            w.submit(new Effect.PersistLog(3, 0, List.of(e(26, 3))));
            assertEquals(3, take(acks));
        } finally {
            w.close();
        }
        LogStorage.Opened again = LogStorage.open(dir, 25, segBytes);
        assertEquals(List.of(e(26, 3)), again.entries());
        again.storage().close();
    }
}
