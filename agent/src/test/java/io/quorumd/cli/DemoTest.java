package io.quorumd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.quorumd.control.Json;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DemoTest {
    @SuppressWarnings("unchecked")
    private static Map<String, Object> status(String json) {
        return (Map<String, Object>) Json.parse(json);
    }

    @Test
    void theFailOverLineNamesTheProof() {
        assertEquals("restart certificate of node-a (term 4)",
                Demo.clearedBy(status("{\"cleared_by\":\"certificate\",\"old_master\":\"node-a\",\"old_master_term\":4}")));
        assertEquals("hand-over from node-b (term 7)",
                Demo.clearedBy(status("{\"cleared_by\":\"handover\",\"old_master\":\"node-b\",\"old_master_term\":7}")));
        assertEquals("lease expiry (no proof: waited out the old lease + stop_timeout) of node-c (term 2)",
                Demo.clearedBy(status("{\"cleared_by\":\"lease_expiry\",\"old_master\":\"node-c\",\"old_master_term\":2}")));
        assertEquals("no earlier master",
                Demo.clearedBy(status("{\"cleared_by\":\"no_master\",\"old_master\":null,\"old_master_term\":null}")));
        assertEquals("? (an agent without cleared_by)", Demo.clearedBy(status("{\"role\":\"master\"}")));
    }
}
