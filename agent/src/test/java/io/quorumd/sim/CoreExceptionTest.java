package io.quorumd.sim;

import io.quorumd.core.Effect;
import io.quorumd.core.Event;
import io.quorumd.core.Node;
import io.quorumd.core.Role;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A broken invariant in the core throws; the simulator reports the throw as a violation of that
 * seed, with the exception's message (the values) and a replayable trace, and carries on with the
 * next seed rather than ending the batch.
 */
class CoreExceptionTest {
    /** Throws the moment it is master, as an always-on invariant check would. */
    private static final Mutant THROWS_IN_HANDLE = Mutant.ofNode("throws-in-handle", (c, s, b, cert, r, now) ->
            new Node(c, s, b, cert, r, now) {
                @Override
                public List<Effect> handle(Event event, long nowNanos) {
                    List<Effect> out = super.handle(event, nowNanos);
                    if (role() == Role.MASTER)
                        throw new IllegalStateException("test invariant: " + id() + " master in term " + term());
                    return out;
                }
            });

    /** Throws from its deadline, which the simulator asks outside handle. */
    private static final Mutant THROWS_IN_DEADLINE = Mutant.ofNode("throws-in-deadline", (c, s, b, cert, r, now) ->
            new Node(c, s, b, cert, r, now) {
                @Override
                public long nextDeadlineNanos() {
                    if (role() == Role.MASTER) throw new IllegalStateException("test invariant: deadline in term " + term());
                    return super.nextDeadlineNanos();
                }
            });

    @Test
    void aThrowInHandleIsAViolationWithItsSeedAndValues() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8);
        SimMain.Summary s = SimMain.runSchedules(1, 2, 3, THROWS_IN_HANDLE, null, null, 1, 20, out);
        String text = buf.toString(StandardCharsets.UTF_8);
        assertEquals(2, s.schedules, "the batch goes on after the first violation");
        assertEquals(2, s.violations);
        assertEquals(1, s.firstViolationSeed);
        assertTrue(text.contains("VIOLATION seed=1 mutant=throws-in-handle"), text);
        assertTrue(text.contains("core exception"), text);
        assertTrue(text.contains("test invariant: ") && text.contains(" master in term 1"), text);
    }

    @Test
    void aThrowOutsideHandleIsAViolationTooNotACrash() {
        Simulation.Result r = new Simulation(SimParams.random(1, 3), THROWS_IN_DEADLINE, false).run();
        assertEquals("core exception", r.violation().rule());
        assertTrue(r.violation().headline().contains("test invariant: deadline in term 1"), r.violation().headline());
    }
}
