package io.quorumd.command;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/** How a child's output becomes lines: newlines, CRLF, the cut at MAX_LINE, the last unterminated line. */
class LinePumpTest {

    private static List<String> pump(byte[] bytes) throws Exception {
        List<String> lines = Collections.synchronizedList(new ArrayList<>());
        Thread t = LinePump.start("line-pump-test", new ByteArrayInputStream(bytes), lines::add);
        assertTrue(t.isDaemon(), "a pump never keeps the agent's JVM alive");
        t.join(TestSupport.PATIENCE.toMillis());
        assertTrue(!t.isAlive(), "the pump ends with its stream");
        return lines;
    }

    private static List<String> pump(String s) throws Exception {
        return pump(s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void linesAreSplitOnNewlinesWithoutTheirCarriageReturn() throws Exception {
        assertEquals(List.of("a", "", "b\rc", "d", "last"), pump("a\n\r\nb\rc\nd\r\nlast"));
        assertEquals(List.of("\u00e9t\u00e9"), pump("\u00e9t\u00e9\n"));
        assertEquals(List.of(), pump(""));
        assertEquals(List.of(""), pump("\n"));
        assertEquals(List.of("\r"), pump("\r\r\n"), "only the last carriage return goes");
    }

    @Test
    void aLineLongerThanMaxLineIsCutThere() throws Exception {
        String max = "x".repeat(LinePump.MAX_LINE);
        assertEquals(List.of(max), pump(max + "\n"), "exactly MAX_LINE bytes: one line");
        assertEquals(List.of(max), pump(max), "exactly MAX_LINE bytes at the end: one line");
        assertEquals(List.of(max, "y"), pump(max + "y\n"));
        assertEquals(List.of(max, max, "zz"), pump(max + max + "zz"));
        String big = "x".repeat(20_000);   // more than one read's buffer
        List<String> lines = pump(big + "\nend\n");
        assertEquals(List.of(max, max, max, max, "x".repeat(20_000 - 4 * LinePump.MAX_LINE), "end"), lines);
    }

    @Test
    void aConsumerThatThrowsDoesNotStopTheDrain() throws Exception {
        List<String> seen = Collections.synchronizedList(new ArrayList<>());
        InputStream in = new ByteArrayInputStream("bad\ngood\n".getBytes(StandardCharsets.UTF_8));
        Thread t = LinePump.start("line-pump-test", in, line -> {
            seen.add(line);
            if (line.equals("bad")) throw new IllegalStateException("a consumer's bug");
        });
        t.join(TestSupport.PATIENCE.toMillis());
        assertEquals(List.of("bad", "good"), seen);
    }
}
