package io.quorumd.lin;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The checker's verdicts on hand-made histories, linearizable and not. */
class LinearizabilityTest {

    private static void assertLinearizable(History h) {
        Verdict v = Linearizability.check(h);
        assertTrue(v.linearizable(), v::toString);
    }

    private static Verdict assertNotLinearizable(History h) {
        Verdict v = Linearizability.check(h);
        assertFalse(v.linearizable(), "expected a violation in " + h.ops());
        return v;
    }

    private static Violation only(Verdict v, Violation.Kind kind) {
        List<Violation> of = v.violations().stream().filter(x -> x.kind() == kind).toList();
        assertEquals(1, of.size(), () -> "one " + kind + " in " + v);
        return of.get(0);
    }

    private static Set<Integer> ids(Violation v) {
        return v.ops().stream().map(Op::id).collect(Collectors.toSet());
    }

    // ------------------------------------------------------------------ linearizable

    @Test
    void anEmptyHistoryAndASequentialOneAreLinearizable() {
        assertLinearizable(new History());
        assertLinearizable(new History()
                .getAbsent(1, 0, 5, "x")
                .put(1, 10, 20, "x", "a", 1)
                .get(2, 30, 40, "x", "a", 1)
                .put(2, 50, 60, "y", "b", 2)
                .delete(1, 70, 80, "x", 3)
                .getAbsent(1, 90, 95, "x")
                .deleteAbsent(2, 96, 97, "x")
                .put(2, 100, 110, "x", "c", 4)
                .get(1, 120, 130, "x", "c", 4));
    }

    @Test
    void overlappingOpsMayTakeEffectInEitherOrder() {
        // a read overlapping a write may see the old or the new value; a later read then sees the new one
        assertLinearizable(new History()
                .put(1, 0, 100, "x", "a", 1)
                .getAbsent(2, 10, 20, "x")
                .get(3, 30, 40, "x", "a", 1)
                .get(2, 50, 60, "x", "a", 1));
        // two concurrent writes: the reads decide the order, and the revisions agree with it
        assertLinearizable(new History()
                .put(1, 0, 100, "x", "a", 2)
                .put(2, 0, 100, "x", "b", 1)
                .get(3, 10, 120, "x", "a", 2)
                .get(3, 130, 140, "x", "a", 2));
    }

    @Test
    void answersAtTheSameInstantAsAnInvocationAreConcurrentWithIt() {
        assertLinearizable(new History()
                .put(1, 0, 10, "x", "a", 1)
                .getAbsent(2, 10, 20, "x"));
    }

    @Test
    void anUnknownWriteThatHappenedMayBeSeenAnyTimeAfterItsInvocation() {
        assertLinearizable(new History()
                .put(1, 0, 10, "x", "a", 1)
                .putUnknown(2, 20, "x", "b")
                .get(1, 30, 40, "x", "a", 1)       // not yet
                .get(1, 1000, 1010, "x", "b", 5)   // long after the client gave up: it happened, revision 5
                .get(3, 1020, 1030, "x", "b", 5)
                .put(3, 1040, 1050, "y", "c", 6));
    }

    @Test
    void anUnknownWriteMayNeverHappen() {
        assertLinearizable(new History()
                .put(1, 0, 10, "x", "a", 1)
                .putUnknown(2, 20, "x", "b")
                .casUnknown(3, 25, "x", 1, "c")
                .deleteUnknown(4, 26, "x")
                .get(1, 30, 40, "x", "a", 1)
                .get(1, 5000, 5010, "x", "a", 1));
    }

    @Test
    void compareAndSetSucceedsOnlyFromTheRevisionItNames() {
        assertLinearizable(new History()
                .cas(1, 0, 10, "x", 0, "a", 1)           // create only
                .casFailed(2, 20, 30, "x", 0, "z")        // exists now
                .cas(1, 40, 60, "x", 1, "b", 2)
                .casFailed(2, 45, 65, "x", 1, "c")        // lost the race
                .casFailed(3, 70, 80, "x", 1, "d")
                .get(3, 90, 95, "x", "b", 2)
                .cas(3, 100, 110, "x", 2, "e", 3));
        // an unknown compare-and-set that happened, revealed by a later read
        assertLinearizable(new History()
                .put(1, 0, 10, "x", "a", 1)
                .casUnknown(2, 20, "x", 1, "b")
                .get(1, 30, 40, "x", "b", 2));
    }

    @Test
    void keysAreIndependentApartFromTheirRevisions() {
        assertLinearizable(new History()
                .put(1, 0, 100, "x", "1", 1)
                .put(2, 0, 100, "y", "1", 2)
                .get(3, 10, 20, "y", "1", 2)
                .get(4, 10, 20, "x", "1", 1)
                .getAbsent(5, 5, 30, "x"));
    }

    @Test
    void conditionalAndUnknownDeletes() {
        History h = new History()
                .put(1, 0, 10, "x", "a", 1)
                .deleteUnknown(2, 20, "x")
                .get(1, 30, 40, "x", "a", 1)       // the delete had not happened yet
                .getAbsent(1, 50, 60, "x")         // now it has
                .cas(1, 70, 80, "x", 0, "b", 9);   // create only: the key is gone again
        int d = h.invoke(3, 90, new Call.Delete("x", 1));
        h.respond(d, 100, new Result.CompareFailed());           // x is at revision 9, not 1
        int e = h.invoke(3, 110, new Call.Delete("x", 9));
        h.respond(e, 120, new Result.Written(10));
        int f = h.invoke(3, 130, new Call.Delete("x", 9));
        h.respond(f, 140, new Result.NotFound());                // gone, whatever it expected
        assertLinearizable(h);

        History wrong = new History().put(1, 0, 10, "x", "a", 1);
        int g = wrong.invoke(2, 20, new Call.Delete("x", 1));
        wrong.respond(g, 30, new Result.CompareFailed());        // but x was at revision 1
        assertNotLinearizable(wrong);
    }

    @Test
    void writesThatCertainlyDidNothingAndReadsNeverAnsweredConstrainNothing() {
        History h = new History().put(1, 0, 10, "x", "a", 1);
        int fenced = h.invoke(2, 20, new Call.Put("x", "b"));
        h.respond(fenced, 30, new Result.NoEffect());
        h.invoke(3, 40, new Call.Get("x")); // never answered
        h.get(1, 50, 60, "x", "a", 1);
        Verdict v = Linearizability.check(h);
        assertTrue(v.linearizable(), v::toString);
    }

    // ------------------------------------------------------------------ not linearizable

    @Test
    void aStaleReadAfterACompletedWriteIsCaught() {
        Verdict v = assertNotLinearizable(new History()
                .put(1, 0, 10, "x", "old", 1)        // #0
                .put(1, 20, 30, "x", "new", 2)       // #1
                .get(2, 40, 50, "x", "old", 1));     // #2
        Violation lin = only(v, Violation.Kind.NOT_LINEARIZABLE);
        assertEquals("x", lin.key());
        assertEquals(Set.of(0, 1, 2), ids(lin));
        Violation order = only(v, Violation.Kind.REVISION_ORDER);
        assertEquals(Set.of(1, 2), ids(order));
        assertTrue(order.explanation().contains("#1 created revision 2 and completed before #2 was invoked, "
                + "but #2 saw the store before revision 2"), order.explanation());
    }

    @Test
    void twoSuccessfulCompareAndSetsFromTheSameRevisionAreCaught() {
        Verdict v = assertNotLinearizable(new History()
                .put(1, 0, 10, "x", "a", 1)           // #0
                .cas(2, 20, 40, "x", 1, "b", 2)       // #1
                .cas(3, 25, 45, "x", 1, "c", 3));     // #2: concurrent, yet also from revision 1
        Violation lin = only(v, Violation.Kind.NOT_LINEARIZABLE);
        assertEquals(Set.of(0, 1, 2), ids(lin), lin::toString);
        assertEquals(1, v.violations().size(), v::toString);
    }

    @Test
    void aLostAcknowledgedWriteIsCaught() {
        Verdict v = assertNotLinearizable(new History()
                .put(1, 0, 10, "x", "a", 1)
                .put(2, 0, 10, "y", "filler", 2)
                .getAbsent(2, 20, 30, "x"));
        Violation lin = only(v, Violation.Kind.NOT_LINEARIZABLE);
        assertEquals(Set.of(0, 2), ids(lin), "the write to y plays no part");
        assertTrue(lin.explanation().contains("#2 (get x -> not found)"), lin.explanation());
    }

    @Test
    void aLostWriteSeenAsTheOlderValueIsCaught() {
        assertNotLinearizable(new History()
                .put(1, 0, 10, "x", "a", 1)
                .put(1, 20, 30, "x", "b", 2)
                .get(2, 40, 50, "x", "b", 2)
                .get(2, 60, 70, "x", "a", 1));     // went back in time
    }

    @Test
    void aReadOfAValueNeverWrittenIsCaught() {
        Verdict v = assertNotLinearizable(new History()
                .put(1, 0, 10, "x", "a", 1)
                .get(2, 20, 30, "x", "ghost", 1));
        Violation never = only(v, Violation.Kind.NEVER_WRITTEN);
        assertEquals(Set.of(1), ids(never));
        assertTrue(never.explanation().contains("no write of \"ghost\" to x"), never.explanation());
        // written, but only after the read had returned
        assertEquals(Violation.Kind.NEVER_WRITTEN, assertNotLinearizable(new History()
                .get(2, 0, 10, "x", "early", 1)
                .putUnknown(1, 20, "x", "early")).violations().get(0).kind());
        // written, but with another revision
        assertTrue(only(assertNotLinearizable(new History()
                .put(1, 0, 10, "x", "a", 1)
                .get(2, 20, 30, "x", "a", 7)), Violation.Kind.NEVER_WRITTEN).explanation()
                .contains("created other revisions"));
    }

    @Test
    void aReadGoingBackInTimeIsCaught() {
        assertNotLinearizable(new History()
                .put(1, 0, 100, "x", "a", 1)
                .get(2, 10, 20, "x", "a", 1)
                .getAbsent(3, 30, 40, "x"));
    }

    @Test
    void aFailedCompareAgainstTheRightRevisionIsCaught() {
        assertNotLinearizable(new History()
                .put(1, 0, 10, "x", "a", 1)
                .casFailed(2, 20, 30, "x", 1, "b"));
        assertNotLinearizable(new History()
                .casFailed(2, 20, 30, "x", 0, "b"));  // create only, on a key that never existed
    }

    @Test
    void anUnknownWriteCannotTakeARevisionAnotherWriteOwns() {
        Verdict v = assertNotLinearizable(new History()
                .put(1, 0, 10, "x", "a", 1)
                .putUnknown(2, 0, "x", "b")
                .get(3, 20, 30, "x", "b", 1));
        only(v, Violation.Kind.NOT_LINEARIZABLE);
    }

    @Test
    void aRevisionLearntFromAReadBoundsTheKeysLaterWrites() {
        // b's write had no answer; the read shows it took revision 5, so c, seen after b, cannot have 3
        Verdict v = assertNotLinearizable(new History()
                .put(1, 0, 5, "x", "a", 1)
                .putUnknown(2, 6, "x", "b")
                .put(3, 6, 100, "x", "c", 3)
                .get(1, 10, 20, "x", "b", 5)
                .get(1, 110, 120, "x", "c", 3));
        only(v, Violation.Kind.NOT_LINEARIZABLE);
        assertEquals(1, v.violations().size(), "only the per-key search sees it: " + v);
    }

    @Test
    void twoWritesWithOneRevisionAreCaught() {
        Violation dup = only(assertNotLinearizable(new History()
                .put(1, 0, 10, "x", "a", 1)
                .put(2, 0, 10, "y", "b", 1)), Violation.Kind.DUPLICATE_REVISION);
        assertEquals(Set.of(0, 1), ids(dup));
        assertEquals(null, dup.key());
    }

    @Test
    void revisionsMustFollowRealTimeAcrossKeys() {
        // each key alone is fine; together they are not
        Violation v = only(assertNotLinearizable(new History()
                .put(1, 0, 10, "x", "a", 2)
                .put(2, 20, 30, "y", "b", 1)), Violation.Kind.REVISION_ORDER);
        assertEquals(Set.of(0, 1), ids(v));
        // y's read places it at revision 2 or later, so the write of x with revision 1 came before:
        // x cannot be absent afterwards
        Verdict w = assertNotLinearizable(new History()
                .put(1, 0, 100, "x", "a", 1)
                .put(2, 0, 100, "y", "b", 2)
                .get(3, 10, 20, "y", "b", 2)
                .getAbsent(3, 30, 40, "x"));
        Violation order = only(w, Violation.Kind.REVISION_ORDER);
        assertEquals(Set.of(2, 3), ids(order));
        assertEquals(1, w.violations().size(), "no single key shows it: " + w);
    }

    @Test
    void aSearchThatRunsOutOfBudgetIsUndecidedNeverLinearizable() {
        // 8 unknown writes pending at once, then an impossible write: refuting it means trying
        // every subset of them, more than a budget of 300 steps
        History h = new History().put(1, 0, 10, "x", "a", 1);
        for (int c = 0; c < 8; c++) {
            h.putUnknown(100 + c, 11 + c, "x", "u" + c);
        }
        h.get(2, 30, 40, "x", "a", 1);
        int bad = h.invoke(2, 50, new Call.Cas("x", 0, "b"));
        h.respond(bad, 60, new Result.Written(99));   // create-only succeeded on a key written at revision 1
        Verdict v = Linearizability.check(h.ops(), 300);
        assertEquals(List.of("x"), v.undecided(), v::toString);
        assertFalse(v.linearizable());
        assertTrue(v.toString().contains("gave up"), v::toString);
        Verdict full = Linearizability.check(h.ops());
        assertEquals(List.of(), full.undecided(), full::toString);
        assertEquals(Violation.Kind.NOT_LINEARIZABLE, full.violations().get(0).kind(), full::toString);
    }

    @Test
    void malformedHistoriesAreRefused() {
        History h = new History();
        int a = h.invoke(1, 0, new Call.Get("x"));
        assertThrows(IllegalArgumentException.class, () -> h.invoke(1, 5, new Call.Get("x")), "a client is sequential");
        h.respond(a, 10, new Result.NotFound());
        assertThrows(IllegalArgumentException.class, () -> h.respond(a, 11, new Result.NotFound()));
        int b = h.invoke(1, 20, new Call.Put("x", "v"));
        assertThrows(IllegalArgumentException.class, () -> h.respond(b, 30, new Result.Found("v", 1)));
        assertThrows(IllegalArgumentException.class, () -> new History().put(1, 10, 5, "x", "v", 1));
    }
}
