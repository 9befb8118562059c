package io.quorumd.storage;

import io.quorumd.core.TermState;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The words an operator reads when the state file cannot be written or a vote is refused (PIT
 * found them unchecked): the kind of I/O error, and a control character shown escaped.
 */
class StateFileDetailTest {
    @Test
    void ioErrorsAreNamedByKind() {
        assertEquals("no such file or directory: /x", StateFile.describe(new NoSuchFileException("/x")));
        assertEquals("permission denied: /x", StateFile.describe(new AccessDeniedException("/x")));
        assertEquals("Is a directory", StateFile.describe(new FileSystemException("/x", null, "Is a directory")));
        assertEquals("FileSystemException: /x", StateFile.describe(new FileSystemException("/x")));
        assertEquals("boom", StateFile.describe(new IOException("boom")));
        assertEquals("IOException", StateFile.describe(new IOException()));
    }

    @Test
    void aControlCharacterInAVoteIsShownEscaped() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> StateFile.encode(new TermState(1, "a\u0001b\u007f\u001f")));
        assertTrue(e.getMessage().endsWith(": a\\x01b\\x7f\\x1f"), e.getMessage());
    }

    @Test
    void printableEdgesOfAVoteAreKept() {
        String s = new String(StateFile.encode(new TermState(3, " n~")), StandardCharsets.UTF_8);   // 0x20 and 0x7e
        assertTrue(s.contains("\nvoted_for= n~\n"), s);
    }
}
