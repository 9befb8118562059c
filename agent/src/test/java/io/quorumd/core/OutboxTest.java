package io.quorumd.core;

import io.quorumd.core.Message.KeepAlive;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The outbox: persist before send, one write per event, and what a failed write means. */
class OutboxTest {
    static Effect msg(String to) {
        return new Effect.Request(to, new Message.HandOver("a", 1, 7, 1, to, null));
    }

    static final Effect TRACE = new Effect.Trace("note");

    @Test
    void messagesGoOutAtOnceWhileNothingIsUnacknowledged() {
        Outbox o = new Outbox();
        o.begin();
        o.send(msg("b"));
        o.emit(TRACE);
        assertEquals(List.of(msg("b"), TRACE), o.effects());
        assertTrue(o.mayAnnounce());
    }

    @Test
    void writesOfOneEventCoalesceInTheFirstOnesPlace() {
        Outbox o = new Outbox();
        o.begin();
        o.emit(TRACE);
        o.persist(new TermState(3, null));
        o.emit(TRACE);
        o.persist(new TermState(3, "b"));   // adopt the term, then vote: one write
        assertEquals(List.of(TRACE, new Effect.Persist(1, 3, "b"), TRACE), o.effects());
        o.begin();
        o.persist(new TermState(4, null));
        assertEquals(List.of(new Effect.Persist(2, 4, null)), o.effects(), "a new event, a new write");
    }

    @Test
    void messagesWaitForTheirWriteAndStaleOnesAreDroppedOnRelease() {
        Outbox o = new Outbox();
        o.begin();
        o.persist(new TermState(1, "a"));
        o.send(msg("b"));
        o.send(msg("c"));
        o.emit(TRACE);
        assertEquals(List.of(new Effect.Persist(1, 1, "a"), TRACE), o.effects(), "messages held, effects not");
        assertFalse(o.mayAnnounce());
        o.begin();
        assertFalse(o.acknowledged(1), "a healthy disk does not recover");
        assertTrue(o.allPersisted());
        o.release(e -> e.equals(msg("c")));
        assertEquals(List.of(msg("b")), o.effects());
        o.begin();
        o.release(e -> false);
        assertEquals(List.of(), o.effects(), "released once");
    }

    @Test
    void anOlderAcknowledgementReleasesNothing() {
        Outbox o = new Outbox();
        o.begin();
        o.persist(new TermState(1, null));
        o.begin();
        o.persist(new TermState(2, null));
        o.send(msg("b"));
        o.acknowledged(1);
        assertFalse(o.allPersisted());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> o.release(x -> false));
        assertTrue(e.getMessage().contains("write 1 acknowledged of 2 issued"), e.getMessage());
        o.acknowledged(2);
        o.begin();
        o.release(x -> false);
        assertEquals(List.of(msg("b")), o.effects());
    }

    @Test
    void aFailedWriteDropsWhatReliedOnItAndRetriesOneAtATime() {
        Outbox o = new Outbox();
        o.begin();
        o.persist(new TermState(1, "a"));
        o.send(msg("b"));
        assertTrue(o.isNewest(1));
        o.failed("disk full", 500);
        assertFalse(o.storageHealthy());
        assertEquals("disk full", o.storageProblem());
        assertEquals(500, o.retryAtNanos());
        assertFalse(o.retryDue(499));
        assertTrue(o.retryDue(500));
        assertFalse(o.retryDue(600), "one retry at a time");
        assertEquals(-1, o.retryAtNanos());
        o.begin();
        o.persist(new TermState(1, "a"));   // the retry
        assertFalse(o.isNewest(1), "the first write's failure no longer matters");
        assertTrue(o.acknowledged(2), "the newest write went through: storage works again");
        assertTrue(o.storageHealthy());
        o.begin();
        o.release(x -> false);
        assertEquals(List.of(), o.effects(), "nothing held survived the failure");
    }

    @Test
    void aKeepAliveIsNotAnnouncedWhileTheDiskFails() {
        Outbox o = new Outbox();
        o.begin();
        o.persist(new TermState(1, null));
        o.acknowledged(1);
        assertTrue(o.mayAnnounce());
        o.failed("EIO", 10);
        assertFalse(o.mayAnnounce());
        KeepAlive k = new KeepAlive("a", 1, 7, 0, null, -1, -1, false, null, 0, 0);
        o.send(new Effect.Publish(k));
        o.begin();
        assertEquals(List.of(), o.effects());
    }

    @Test
    void aMessagePastTheOutboxWhileAWriteIsPendingThrows() {
        Outbox o = new Outbox();
        o.begin();
        o.persist(new TermState(2, null));
        o.emit(TRACE);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> o.emit(msg("b")));
        assertTrue(e.getMessage().contains("write 0 acknowledged of 1 issued"), e.getMessage());
    }

    @Test
    void dropHeldRemovesOnlyWhatItIsAsked() {
        Outbox o = new Outbox();
        o.begin();
        o.persist(new TermState(1, null));
        o.send(msg("b"));
        o.send(msg("c"));
        o.dropHeld(e -> e.equals(msg("b")));
        o.acknowledged(1);
        o.begin();
        o.release(x -> false);
        assertEquals(List.of(msg("c")), o.effects());
    }
}
