package io.quorumd.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class SignalTest {
    @Test
    void linuxNumbers() {
        assertEquals(15, Signal.TERM.number());
        assertEquals(2, Signal.INT.number());
        assertEquals(1, Signal.HUP.number());
        assertEquals(3, Signal.QUIT.number());
        assertEquals(10, Signal.USR1.number());
        assertEquals(12, Signal.USR2.number());
        assertEquals(9, Signal.KILL.number());
        assertEquals("SIGUSR1", Signal.USR1.signalName());
    }

    @Test
    void namesWithOrWithoutSigInUpperCase() {
        for (Signal s : Signal.values()) {
            assertEquals(s, Signal.parse(s.name()));
            assertEquals(s, Signal.parse("SIG" + s.name()));
        }
        assertEquals("signal names are upper case: write HUP",
                assertThrows(IllegalArgumentException.class, () -> Signal.parse("hup")).getMessage());
        assertEquals("signal names are upper case: write SIGUSR2",
                assertThrows(IllegalArgumentException.class, () -> Signal.parse("SigUsr2")).getMessage());
        assertThrows(IllegalArgumentException.class, () -> Signal.parse("SIGSTOP"));
        assertThrows(IllegalArgumentException.class, () -> Signal.parse("SIG"));
        assertThrows(IllegalArgumentException.class, () -> Signal.parse(""));
    }
}
