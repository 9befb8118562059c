package io.quorumd;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The watch over the loop's threads, with real threads and the loop's clock passed in. */
class ThreadWatchTest {
    static final long S = 1_000_000_000L;

    private final AtomicInteger wakes = new AtomicInteger();
    private final ThreadWatch watch = new ThreadWatch(wakes::incrementAndGet);

    /** A single-thread executor and its thread. */
    private static Thread threadOf(ExecutorService ex) throws Exception {
        return ex.submit(Thread::currentThread).get();
    }

    @Test
    void aThreadThatDiesIsReportedAndTheLoopWoken() throws Exception {
        CountDownLatch go = new CountDownLatch(1);
        Thread t = new Thread(() -> {
            try {
                go.await();
            } catch (InterruptedException ignored) {
                return;
            }
            throw new StackOverflowError("deep");
        }, "test-adapter");
        t.start();
        watch.watch("test adapter", t);
        assertNull(watch.check(0));
        go.countDown();
        t.join(5000);
        assertEquals(1, wakes.get(), "the handler wakes the loop");
        String why = watch.check(1);
        assertTrue(why.contains("test adapter thread (test-adapter) failed: java.lang.StackOverflowError: deep"), why);
        assertEquals(why, watch.check(2 * S), "a failure stays");
    }

    @Test
    void aThreadGoneWithoutAnExceptionIsReportedToo() throws Exception {
        Thread t = new Thread(() -> { }, "short-lived");
        t.start();
        t.join();
        watch.watch("short", t);
        assertTrue(watch.check(0).contains("(short-lived) is gone"), watch.failure());
    }

    @Test
    void aWedgedThreadIsReportedOnlyAfterItHadItsTime() throws Exception {
        ExecutorService ex = Executors.newSingleThreadExecutor();
        try {
            CountDownLatch release = new CountDownLatch(1);
            watch.watch("worker", threadOf(ex), ex::execute);
            long now = 0;
            assertNull(watch.check(now));   // asks for the first probe
            Thread.sleep(100);
            for (int i = 0; i < 30; i++) {   // answered every time: healthy for a minute
                now += S;
                assertNull(watch.check(now), "at " + now / S + " s");
                Thread.sleep(20);
            }
            ex.execute(() -> {
                try {
                    release.await();   // wedged: the next probe waits behind this
                } catch (InterruptedException ignored) {
                    // the test ends
                }
            });
            long wedgedAt = now;
            String why = null;
            while (why == null && now - wedgedAt <= ThreadWatch.PROBE_INTERVAL_NANOS + ThreadWatch.STALL_NANOS + 2 * S) {
                now += S;
                why = watch.check(now);
            }
            assertTrue(why != null && why.contains("worker thread") && why.contains("made no progress"), why);
            assertTrue(now - wedgedAt > ThreadWatch.STALL_NANOS, "reported " + (now - wedgedAt) / S + " s after the wedge");
            release.countDown();
        } finally {
            ex.shutdownNow();
        }
    }

    @Test
    void aStoppedProcessIsNotMistakenForAWedgedThread() throws Exception {
        ExecutorService ex = Executors.newSingleThreadExecutor();
        try {
            CountDownLatch release = new CountDownLatch(1);
            watch.watch("worker", threadOf(ex), ex::execute);
            ex.execute(() -> {
                try {
                    release.await();
                } catch (InterruptedException ignored) {
                    // the test ends
                }
            });
            assertNull(watch.check(0));   // a probe waits behind the blocked task
            // the whole JVM was stopped (SIGSTOP) for a minute: the loop's next turn comes late
            assertNull(watch.check(60 * S), "a gap in the loop itself restarts the clock");
            release.countDown();
            Thread.sleep(100);
            assertNull(watch.check(61 * S));
            assertNull(watch.check(75 * S - 1), "answered after the resume");
        } finally {
            ex.shutdownNow();
        }
    }

    /** The transport's kind of progress: every request the loop makes through it must bring some event. */
    @Test
    void aThreadThatStopsAnsweringRequestsIsWedged() throws Exception {
        ThreadWatch.Answers answers = ThreadWatch.answers("transport", S);
        Thread io = new Thread(() -> {
            try {
                Thread.sleep(60_000);
            } catch (InterruptedException ignored) {
                // the test ends
            }
        }, "test-io");
        io.start();
        try {
            watch.watch("transport", io, answers);
            long limit = S + ThreadWatch.STALL_NANOS;
            assertNull(watch.check(0));
            assertNull(watch.check(30 * S), "no request, nothing owed");
            answers.asked(31 * S);
            assertNull(watch.check(31 * S + limit), "within the request's time-out and the stall limit");
            Thread t = new Thread(answers::answered);   // an event (a reply or a failure) from the thread
            t.start();
            t.join();
            assertNull(watch.check(31 * S + limit + S / 2), "answered");
            answers.asked(40 * S);
            for (long now = 40 * S; now <= 40 * S + limit; now += S / 2) assertNull(watch.check(now));
            String why = watch.check(40 * S + limit + S / 2);
            assertTrue(why != null && why.startsWith("the transport delivered nothing for 11500 ms"), why);
        } finally {
            io.interrupt();
        }
    }
}
