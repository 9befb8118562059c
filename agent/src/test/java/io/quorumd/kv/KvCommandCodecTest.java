package io.quorumd.kv;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class KvCommandCodecTest {
    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void everyCommandRoundTrips() {
        List<KvCommand> all = List.of(new KvCommand.Noop(), KvCommand.put("k", "v"), KvCommand.delete("k"),
                new KvCommand.Put(b("ключ"), new byte[0], OptionalLong.of(0), OptionalLong.of(7)),
                new KvCommand.Put(b("k"), new byte[KvLimits.MAX_VALUE_BYTES], OptionalLong.empty(), OptionalLong.of(3)),
                new KvCommand.Delete(b("k"), OptionalLong.of(42), OptionalLong.empty()));
        for (KvCommand c : all) assertEquals(c, KvCommandCodec.decode(KvCommandCodec.encode(c)), c::toString);
        assertEquals(0, KvCommandCodec.encode(new KvCommand.Noop()).length);
    }

    @Test
    void malformedPayloadsAreRefusedWithTheReason() {
        byte[] ok = KvCommandCodec.encode(new KvCommand.Put(b("key"), b("value"), OptionalLong.of(5), OptionalLong.empty()));
        for (int cut = 1; cut < ok.length; cut++) {
            byte[] part = Arrays.copyOf(ok, cut);
            assertThrows(IllegalArgumentException.class, () -> KvCommandCodec.decode(part), "cut at " + cut);
        }
        byte[] longer = Arrays.copyOf(ok, ok.length + 1);
        assertThrows(IllegalArgumentException.class, () -> KvCommandCodec.decode(longer));
        byte[] tag = ok.clone();
        tag[0] = 9;
        assertThrows(IllegalArgumentException.class, () -> KvCommandCodec.decode(tag));
        byte[] flags = ok.clone();
        flags[1] = (byte) 0x80;
        assertThrows(IllegalArgumentException.class, () -> KvCommandCodec.decode(flags));
        // a key length far past the payload allocates nothing
        byte[] huge = ok.clone();
        huge[2] = 0x7f;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KvCommandCodec.decode(huge));
        assertEquals(true, e.getMessage().startsWith("key length"), e.getMessage());
        byte[] negRev = KvCommandCodec.encode(new KvCommand.Delete(b("k"), OptionalLong.of(1), OptionalLong.empty()));
        Arrays.fill(negRev, negRev.length - 8, negRev.length, (byte) 0xff);
        assertThrows(IllegalArgumentException.class, () -> KvCommandCodec.decode(negRev));
    }
}
