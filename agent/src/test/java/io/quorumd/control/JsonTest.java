package io.quorumd.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class JsonTest {
    @Test
    void escapesQuotesBackslashesAndControlCharacters() {
        assertEquals("\"a\\\"b\\\\c/d\"", Json.write("a\"b\\c/d"));
        assertEquals("\"\\n\\r\\t\\b\\f\\u0000\\u0001\\u001f\\u007f\"", Json.write("\n\r\t\b\f\u0000\u0001\u001f\u007f"));
        assertEquals("\"\\u2028\\u2029\"", Json.write("\u2028\u2029"));
        assertEquals("\"é ü 節 😀\"", Json.write("é ü 節 😀"), "other characters go through as they are");
        assertEquals("\"\\ud800x\\udc00\"", Json.write("\ud800x\udc00"), "unpaired surrogates are escaped");
    }

    @Test
    void writesNumbersBooleansNullAndStructuresInOrder() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("z", 1L);
        m.put("a", List.of(true, false, -7, 2.5));
        m.put("n", null);
        m.put("o", Map.of());
        assertEquals("{\"z\":1,\"a\":[true,false,-7,2.5],\"n\":null,\"o\":{}}", Json.write(m));
        assertEquals(String.valueOf(Long.MIN_VALUE), Json.write(Long.MIN_VALUE));
        assertThrows(IllegalArgumentException.class, () -> Json.write(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> Json.write(Double.POSITIVE_INFINITY));
        assertThrows(IllegalArgumentException.class, () -> Json.write(new Object()));
    }

    @Test
    void anyStringSurvivesARoundTrip() {
        Random r = new Random(42);
        for (int n = 0; n < 3000; n++) {
            char[] cs = new char[r.nextInt(20)];
            for (int i = 0; i < cs.length; i++) {
                int kind = r.nextInt(4);
                cs[i] = (char) (kind == 0 ? r.nextInt(0x80) : kind == 1 ? r.nextInt(0x20) : kind == 2 ? 0xd800 + r.nextInt(0x800) : r.nextInt(0x10000));
            }
            String s = new String(cs);
            String json = Json.write(s);
            for (char c : json.toCharArray()) assertTrue(c >= 0x20, "no raw control character in " + json);
            assertEquals(s, Json.parse(json), "round trip of " + Arrays.toString(s.chars().toArray()));
        }
    }

    @Test
    void parsesWhatItWritesAndStandardJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("long", Long.MAX_VALUE);
        m.put("min", Long.MIN_VALUE);
        m.put("neg", -0.5e-7);
        m.put("big", 1e300);
        m.put("list", new ArrayList<>(Arrays.asList(1L, "x", null, true, List.of())));
        m.put("nested", new LinkedHashMap<>(Map.of("k", "v")));
        assertEquals(m, Json.parse(Json.write(m)));
        assertEquals(List.of("b", "a"), new ArrayList<>(((Map<?, ?>) Json.parse("{\"b\":1,\"a\":2}")).keySet()));
        assertEquals(100.0, Json.parse("1e2"));
        assertEquals(1.5, Json.parse(" \t\r\n1.5 \n"));
        assertEquals(1.2345678901234567E19, Json.parse("12345678901234567890"));
        assertEquals("é/😀\"", Json.parse("\"\\u00e9\\/\\ud83d\\ude00\\\"\""));
        assertEquals(0L, Json.parse("-0"));
    }

    @Test
    void refusesWhatIsNotJson() {
        for (String bad : List.of("", " ", "01", "1.", ".5", "-", "+1", "1e", "[1,]", "[1 2]", "{\"a\":1,}", "{'a':1}",
                "{\"a\" 1}", "{a:1}", "\"abc", "\"a\nb\"", "\"\\x\"", "\"\\u12\"", "\"\\u12g4\"", "nul", "tru", "NaN",
                "Infinity", "1 2", "{\"a\":1,\"a\":2}", "[", "{", "[1", "{\"a\":", "//c\n1", "[".repeat(300) + "]".repeat(300))) {
            JsonException e = assertThrows(JsonException.class, () -> Json.parse(bad), "accepted: " + bad);
            assertTrue(e.getMessage().startsWith("bad JSON at offset "), e.getMessage());
        }
        assertEquals("bad JSON at offset 8: duplicate key \"a\"",
                assertThrows(JsonException.class, () -> Json.parse("{\"a\":1, \"a\":2}")).getMessage());
    }
}
