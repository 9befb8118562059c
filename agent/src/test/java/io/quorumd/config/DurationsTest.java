package io.quorumd.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class DurationsTest {
    @Test
    void parsesOneOrSeveralUnitsFromTheLargestDown() {
        Map<String, Duration> cases = Map.of(
                "250ms", Duration.ofMillis(250),
                "2s", Duration.ofSeconds(2),
                "1m", Duration.ofMinutes(1),
                "1h", Duration.ofHours(1),
                "1m30s", Duration.ofSeconds(90),
                "1h2m3s4ms", Duration.ofMillis(3_723_004),
                "1000ms", Duration.ofSeconds(1),
                "90s", Duration.ofSeconds(90),
                "007s", Duration.ofSeconds(7),
                "8760h", Durations.MAX);
        cases.forEach((text, d) -> assertEquals(d, Durations.parse(text), text));
    }

    private static String refusal(String text) {
        return assertThrows(IllegalArgumentException.class, () -> Durations.parse(text)).getMessage();
    }

    @Test
    void saysWhatIsWrong() {
        assertEquals("a duration needs a unit (ms, s, m or h), e.g. 100ms or 100s", refusal("100"));
        assertEquals("every number needs a unit (ms, s, m or h), e.g. 250ms, 2s or 1m30s", refusal("1m30"));
        assertEquals("must be more than 0, e.g. 250ms, 2s or 1m30s", refusal("0s"));
        assertEquals("must be more than 0, e.g. 250ms, 2s or 1m30s", refusal("0h0m"));
        assertEquals("must be more than 0, e.g. 250ms, 2s or 1m30s", refusal("-1s"));
        assertEquals("whole numbers only: write 1500ms", refusal("1.5s"));
        assertEquals("whole numbers only: write 1m30s", refusal("1.5m"));
        assertEquals("whole numbers only, e.g. 250ms, 2s or 1m30s", refusal("0.5ms"));
        assertEquals("unknown unit 'S'; use ms, s, m or h, e.g. 250ms, 2s or 1m30s", refusal("5S"));
        assertEquals("unknown unit 'd'; use ms, s, m or h, e.g. 250ms, 2s or 1m30s", refusal("1d"));
        assertEquals("unknown unit 'sec'; use ms, s, m or h, e.g. 250ms, 2s or 1m30s", refusal("5sec"));
        assertEquals("units must go from the largest to the smallest, each once, e.g. 250ms, 2s or 1m30s",
                refusal("30s1m"));
        assertEquals("units must go from the largest to the smallest, each once, e.g. 250ms, 2s or 1m30s",
                refusal("1s1s"));
        assertEquals("no spaces inside a duration, e.g. 250ms, 2s or 1m30s", refusal("1m 30s"));
        assertEquals("must be whole numbers with a unit (ms, s, m or h), e.g. 250ms, 2s or 1m30s", refusal("s"));
        assertEquals("no spaces inside a duration, e.g. 250ms, 2s or 1m30s", refusal(" 1s"));
        assertEquals("a duration is needed, e.g. 250ms, 2s or 1m30s", refusal(""));
        assertEquals("must be at most 8760h", refusal("8760h1ms"));
        assertEquals("must be at most 8760h", refusal("99999999999999999999h"));
    }

    @Test
    void zeroOnlyWhereAllowed() {
        assertEquals(Duration.ZERO, Durations.parse("0s", true));
        assertEquals(Duration.ZERO, Durations.parse("0ms", true));
        assertThrows(IllegalArgumentException.class, () -> Durations.parse("0s", false));
    }

    @Test
    void formatsTheShortestExactForm() {
        Map<Duration, String> cases = Map.of(
                Duration.ofMillis(1500), "1500ms",
                Duration.ofSeconds(2), "2s",
                Duration.ofSeconds(90), "1m30s",
                Duration.ofMillis(100), "100ms",
                Duration.ofMillis(1000), "1s",
                Duration.ofSeconds(60), "1m",
                Duration.ofSeconds(3723), "1h2m3s",
                Duration.ofHours(30), "30h",
                Duration.ZERO, "0s");
        cases.forEach((d, text) -> assertEquals(text, Durations.format(d), d.toString()));
        assertThrows(IllegalArgumentException.class, () -> Durations.format(Duration.ofNanos(1_500_000)));
        assertThrows(IllegalArgumentException.class, () -> Durations.format(Duration.ofSeconds(-1)));
    }

    @Test
    void formatThenParseIsTheIdentity() {
        SplittableRandom r = new SplittableRandom(42);
        for (int i = 0; i < 20_000; i++) {
            long ms = switch (i % 4) {
                case 0 -> r.nextLong(1, 10_000);
                case 1 -> r.nextLong(1, 10_000) * 1000;
                case 2 -> r.nextLong(1, 1_000) * 60_000 + r.nextLong(0, 60) * 1000;
                default -> r.nextLong(1, Durations.MAX.toMillis() + 1);
            };
            Duration d = Duration.ofMillis(ms);
            assertEquals(d, Durations.parse(Durations.format(d)), Durations.format(d));
        }
    }
}
