package io.quorumd;

import io.quorumd.core.Event;
import io.quorumd.core.Message;
import io.quorumd.wire.DropCounters;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The loop's bounded queue: a flood of frames is shed and counted, never blocks its sender, never fills the heap. */
class InboxTest {
    private final List<String> logged = new ArrayList<>();
    private final DropCounters drops = new DropCounters(System::nanoTime, logged::add);

    private static Event frame(int i) {
        return new Event.Received(new Message.KeepAlive("node-b", 3, 9, i, "node-b", -1, -1, true, null, 0, 0));
    }

    @Test
    void aFloodBeyondCapacityIsShedAndCountedWhileTheLoopIsBusy() throws Exception {
        Inbox inbox = new Inbox(drops);
        int flood = 2_000_000;
        Runtime rt = Runtime.getRuntime();
        System.gc();
        long usedBefore = rt.totalMemory() - rt.freeMemory();
        // the transport's I/O thread, sending far faster than a stalled loop takes
        Thread io = new Thread(() -> {
            for (int i = 0; i < flood; i++) inbox.offer(frame(i));
        }, "test-transport-io");
        long t0 = System.nanoTime();
        io.start();
        io.join(60_000);
        long tookMillis = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(!io.isAlive(), "the sender never blocks");
        int kept = Inbox.CAPACITY - Inbox.RESERVE;
        assertEquals(kept, inbox.size());
        assertEquals(flood - kept, drops.count(Inbox.OVERLOAD));
        assertEquals(1, logged.size(), "one log line a minute: " + logged);
        assertTrue(logged.get(0).startsWith("dropped a frame: overload (the event loop is 896 events behind"), logged.get(0));
        System.gc();
        long grewBy = rt.totalMemory() - rt.freeMemory() - usedBefore;
        assertTrue(grewBy < 16L << 20, "heap grew by " + (grewBy >> 20) + " MiB for " + flood + " frames");
        System.out.printf("inbox flood: %d frames in %d ms, %d kept, %d shed%n", flood, tookMillis, inbox.size(),
                drops.count(Inbox.OVERLOAD));

        // what the loop asked for is never shed: a persist's answer and a shutdown still get in
        inbox.offer(new Event.Persisted(7));
        inbox.offer(new Event.ShutdownRequested());
        assertNull(inbox.failure());
        for (int i = 0; i < kept; i++) assertInstanceOf(Event.Received.class, inbox.poll(0));
        assertEquals(new Event.Persisted(7), inbox.poll(0));
        assertInstanceOf(Event.ShutdownRequested.class, inbox.poll(0));
        assertNull(inbox.poll(TimeUnit.MILLISECONDS.toNanos(10)));
    }

    @Test
    void aLostLocalEventIsAFailureThatStopsTheAgent() {
        Inbox inbox = new Inbox(4, 2, drops);
        for (int i = 0; i < 4; i++) inbox.offer(new Event.Persisted(i));
        assertNull(inbox.failure());
        inbox.offer(new Event.Persisted(99));
        assertTrue(inbox.failure().contains("could not queue Persisted[seq=99]"), inbox.failure());
        assertEquals(1, drops.count(Inbox.OVERLOAD));
    }
}
