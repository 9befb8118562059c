package io.quorumd.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quorumd.core.Effect;
import io.quorumd.core.Event;
import io.quorumd.core.TermState;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PersisterTest {
    @TempDir Path dir;
    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private Path mounted;

    @AfterEach
    void unmount() throws Exception {
        if (mounted != null) {
            if (run("umount", mounted.toString()) != 0) run("umount", "-l", mounted.toString());
        }
    }

    @Test
    void writesAndAcknowledges() throws Exception {
        try (Persister p = new Persister(new StateFile(dir), events::add)) {
            p.submit(1, new TermState(1, null));
            assertEquals(new Event.Persisted(1), next());
            p.submit(new Effect.Persist(2, 1, "node-a"));
            assertEquals(new Event.Persisted(2), next());
            assertTrue(p.healthy());
        }
        assertEquals(new TermState(1, "node-a"), new StateFile(dir).load());
    }

    /** The fsync-latency metric hears of each successful write, with how long it took. */
    @Test
    void eachWriteReportsItsDurationToTheObserver() throws Exception {
        BlockingQueue<Long> took = new LinkedBlockingQueue<>();
        try (Persister p = new Persister(new StateFile(dir), events::add)) {
            p.observeWrites(took::add);
            long before = System.nanoTime();
            p.submit(1, new TermState(3, "node-b"));
            assertEquals(new Event.Persisted(1), next());
            long elapsed = System.nanoTime() - before;
            Long d = took.poll(5, TimeUnit.SECONDS);
            assertTrue(d != null && d > 0 && d <= elapsed, "a write's duration between 0 and " + elapsed + " ns: " + d);
            assertNull(took.poll(), "one report per write");
        }
    }

    /**
     * The writer is held busy (as by a slow fsync) after its first write: its sink blocks until
     * released, so the writer thread can take nothing new. Every submit made meanwhile queues; on
     * release exactly one more write follows, of the newest state, acknowledged with the newest
     * seq. Each write reports exactly one event, so 2 events for n + 1 submits are 2 writes.
     */
    @Test
    void queuedSubmitsAreCoalescedAndTheNewestIsAcknowledged() throws Exception {
        int n = 200;
        CountDownLatch holding = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger delivered = new AtomicInteger();
        Consumer<Event> heldSink = e -> {
            events.add(e);
            if (delivered.incrementAndGet() == 1) {
                holding.countDown();
                try {
                    release.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        StateFile file = new StateFile(dir);
        try (Persister p = new Persister(file, heldSink)) {
            p.submit(1, new TermState(1, "node-1"));
            assertTrue(holding.await(10, TimeUnit.SECONDS), "the first write was never reported");
            assertEquals(new Event.Persisted(1), next());
            for (int i = 2; i <= n; i++) p.submit(i, new TermState(i, "node-" + i));
            // the writer is busy: none of these reached the disk yet
            assertEquals(new TermState(1, "node-1"), file.load(), "written while the writer was busy");
            release.countDown();
            assertEquals(new Event.Persisted(n), next(), "one write for the queued submits, of the newest");
            assertNull(events.poll(200, TimeUnit.MILLISECONDS), "no write of a superseded state");
            assertEquals(new TermState(n, "node-" + n), file.load());
        }
        assertEquals(2, delivered.get(), n + " submits while busy must coalesce into 2 writes");
        assertTrue(events.isEmpty(), "nothing after the newest: " + events);
    }

    @Test
    void seqMustGrow() {
        try (Persister p = new Persister(new StateFile(dir), events::add)) {
            p.submit(5, new TermState(1, null));
            assertThrows(IllegalArgumentException.class, () -> p.submit(5, new TermState(1, null)));
        }
    }

    @Test
    void closeWritesWhatIsQueuedAndLaterSubmitsFail() throws Exception {
        Persister p = new Persister(new StateFile(dir), events::add);
        // a daemon: a write hanging in fsync must not keep the JVM from exiting
        assertEquals("quorumd-persister", p.thread().getName());
        assertTrue(p.thread().isDaemon());
        p.submit(1, new TermState(4, "node-c"));
        p.close();
        assertFalse(p.thread().isAlive(), "close returns once the queued write is done");
        assertEquals(new Event.Persisted(1), events.poll(), "reported before close returned");
        p.submit(2, new TermState(5, null));
        Event.PersistFailed f = assertInstanceOf(Event.PersistFailed.class, next());
        assertEquals(2, f.seq());
        assertTrue(f.reason().contains("shutting down"), f.reason());
        assertEquals(new TermState(4, "node-c"), new StateFile(dir).load());
    }

    /** An interrupted close returns at once and leaves the interrupt for its caller to see. */
    @Test
    void anInterruptedCloseKeepsTheInterrupt() {
        Persister p = new Persister(new StateFile(dir), events::add);
        Thread.currentThread().interrupt();
        p.close();
        assertTrue(Thread.interrupted(), "the interrupt is restored (and cleared here)");
    }

    /** A real ENOSPC: a 64 KiB tmpfs, filled up. Needs root (mount); skipped where mounting is refused. */
    @Test
    void fullDiskIsReportedAndThePreviousStateSurvives() throws Exception {
        Path fs = Files.createDirectory(dir.resolve("tmpfs"));
        Assumptions.assumeTrue(run("mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", fs.toString()) == 0,
                "mount -t tmpfs is not permitted here; see ioErrorIsReportedAndThePreviousStateSurvives");
        mounted = fs;
        StateFile file = new StateFile(fs);
        try (Persister p = new Persister(file, events::add)) {
            p.submit(1, new TermState(6, "node-b"));
            assertEquals(new Event.Persisted(1), next());

            Path filler = fs.resolve("filler");
            fill(filler);
            p.submit(2, new TermState(7, "node-a"));
            Event.PersistFailed f = assertInstanceOf(Event.PersistFailed.class, next());
            assertEquals(2, f.seq());
            assertTrue(f.reason().contains("No space left on device"), f.reason());
            assertTrue(f.reason().contains(fs.resolve("state").toString()), f.reason());
            assertFalse(p.healthy());
            assertEquals(new TermState(6, "node-b"), file.load(), "the old state is intact");
            assertFalse(Files.exists(fs.resolve("state.tmp")));

            p.submit(3, new TermState(7, "node-a"));   // still full: fails again, no crash
            assertInstanceOf(Event.PersistFailed.class, next());

            Files.delete(filler);
            p.submit(4, new TermState(7, "node-a"));
            assertEquals(new Event.Persisted(4), next());
            assertTrue(p.healthy());
            assertNull(p.lastError());
        }
        assertEquals(new TermState(7, "node-a"), file.load());
    }

    /**
     * Runs everywhere, also without root: an I/O error that does not depend on mounting, made by a
     * non-empty directory where the temp file must go (open fails with EISDIR).
     */
    @Test
    void ioErrorIsReportedAndThePreviousStateSurvives() throws Exception {
        StateFile file = new StateFile(dir);
        try (Persister p = new Persister(file, events::add)) {
            p.submit(1, new TermState(2, "node-a"));
            assertEquals(new Event.Persisted(1), next());
            Path blocker = Files.createDirectory(dir.resolve("state.tmp"));
            Files.writeString(blocker.resolve("x"), "x");
            p.submit(2, new TermState(3, null));
            Event.PersistFailed f = assertInstanceOf(Event.PersistFailed.class, next());
            assertTrue(f.reason().startsWith("cannot write state file " + dir.resolve("state") + ": "), f.reason());
            assertTrue(f.reason().contains("Is a directory"), f.reason());
            assertEquals(new TermState(2, "node-a"), file.load());

            Files.delete(blocker.resolve("x"));
            Files.delete(blocker);
            p.submit(3, new TermState(3, null));
            assertEquals(new Event.Persisted(3), next());
        }
        assertEquals(new TermState(3, null), file.load());
    }

    private Event next() throws InterruptedException {
        Event e = events.poll(10, TimeUnit.SECONDS);
        if (e == null) throw new AssertionError("no event from the persister within 10 s");
        return e;
    }

    private static void fill(Path filler) throws IOException {
        byte[] block = new byte[4096];
        try (OutputStream out = Files.newOutputStream(filler)) {
            while (true) {
                out.write(block);
                out.flush();
            }
        } catch (IOException full) {
            if (!String.valueOf(full.getMessage()).contains("No space left")) throw full;
        }
    }

    private static int run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getInputStream().transferTo(OutputStream.nullOutputStream());
        return p.waitFor(10, TimeUnit.SECONDS) ? p.exitValue() : -1;
    }
}
