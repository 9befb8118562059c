package io.quorumd.config;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The config file's text, checked before YAML sees it: at most 1 MiB, strict UTF-8, no control
 * characters. Lines and columns are counted as SnakeYAML counts them (code points; a line ends at
 * LF, CR LF, CR, NEL, LS or PS), so that every message, ours or the parser's, points at the same
 * place.
 */
final class SourceText {
    static final int MAX_BYTES = 1 << 20;

    private final Path file;
    private final String text;
    private final int[] codePoints;

    private SourceText(Path file, String text) {
        this.file = file;
        this.text = text;
        this.codePoints = text.codePoints().toArray();
    }

    String text() {
        return text;
    }

    /** Reads and checks {@code file}. */
    static SourceText read(Path file) throws ConfigException {
        return of(file, readBytes(file));
    }

    /** Checks bytes read from {@code file} (also for tests that have no file). */
    static SourceText of(Path file, byte[] bytes) throws ConfigException {
        if (bytes.length > MAX_BYTES) {
            String got = "more than " + MAX_BYTES + " bytes";   // a pipe: we stopped reading
            try {
                if (Files.isRegularFile(file)) got = Files.size(file) + " bytes";
            } catch (IOException e) {
                // keep what we know
            }
            throw problem(file, Position.START,
                    "the file is larger than 1 MiB; a quorumd config is a few dozen lines: check that this is the right file",
                    got);
        }
        int offset = bytes.length >= 3 && (bytes[0] & 0xFF) == 0xEF && (bytes[1] & 0xFF) == 0xBB
                && (bytes[2] & 0xFF) == 0xBF ? 3 : 0;   // a UTF-8 byte order mark is harmless
        String text = decode(file, bytes, offset);
        SourceText source = new SourceText(file, text);
        source.checkPrintable();
        return source;
    }

    private static byte[] readBytes(Path file) throws ConfigException {
        if (Files.isDirectory(file)) throw ConfigException.cannotRead(file, "is a directory");
        try (InputStream in = Files.newInputStream(file)) {
            return in.readNBytes(MAX_BYTES + 1);
        } catch (NoSuchFileException e) {
            throw ConfigException.cannotRead(file, "no such file or directory");
        } catch (AccessDeniedException e) {
            throw ConfigException.cannotRead(file, "permission denied");
        } catch (FileSystemException e) {
            throw ConfigException.cannotRead(file, e.getReason() != null ? lowerFirst(e.getReason()) : e.toString());
        } catch (IOException e) {
            throw ConfigException.cannotRead(file, e.getMessage() != null ? lowerFirst(e.getMessage()) : e.toString());
        }
    }

    private static String decode(Path file, byte[] bytes, int offset) throws ConfigException {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes, offset, bytes.length - offset);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult r = decoder.decode(in, out, true);
        if (r.isUnderflow()) r = decoder.flush(out);
        out.flip();
        if (r.isError()) {
            String before = out.toString();
            int bad = bytes[in.position()] & 0xFF;
            throw problem(file, positionAfter(before), "the file is not valid UTF-8 here; save it as UTF-8",
                    String.format(Locale.ROOT, "byte 0x%02X", bad));
        }
        return out.toString();
    }

    /** YAML forbids control characters; SnakeYAML would say so without a line. */
    private void checkPrintable() throws ConfigException {
        int line = 1;
        int column = 1;
        for (int i = 0; i < codePoints.length; i++) {
            int c = codePoints[i];
            if (!printable(c)) {
                throw problem(file, new Position(line, column), "control characters are not allowed in the file",
                        String.format(Locale.ROOT, "U+%04X", c));
            }
            if (isBreak(i)) {
                line++;
                column = 1;
            } else {
                column++;
            }
        }
    }

    private static boolean printable(int c) {
        return (c >= 0x20 && c <= 0x7E) || c == 0x9 || c == 0xA || c == 0xD || c == 0x85
                || (c >= 0xA0 && c <= 0xD7FF) || (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
    }

    private boolean isBreak(int i) {
        return isBreak(codePoints, i);
    }

    private static boolean isBreak(int[] cps, int i) {
        int c = cps[i];
        return c == '\n' || c == 0x85 || c == 0x2028 || c == 0x2029 || (c == '\r' && (i + 1 >= cps.length || cps[i + 1] != '\n'));
    }

    private static Position positionAfter(String prefix) {
        int[] cps = prefix.codePoints().toArray();
        int line = 1;
        int column = 1;
        for (int i = 0; i < cps.length; i++) {
            if (isBreak(cps, i)) {
                line++;
                column = 1;
            } else {
                column++;
            }
        }
        return new Position(line, column);
    }

    /** The text between two SnakeYAML mark indexes (code points). */
    String slice(int start, int end) {
        int s = Math.max(0, Math.min(start, codePoints.length));
        int e = Math.max(s, Math.min(end, codePoints.length));
        return new String(codePoints, s, e - s);
    }

    /** The text of a 1-based line, without its line break. */
    String line(int line) {
        int current = 1;
        int start = 0;
        for (int i = 0; i < codePoints.length; i++) {
            if (isBreak(i)) {
                if (current == line) return endTrim(slice(start, i));
                current++;
                start = i + 1;
            }
        }
        return current == line ? endTrim(slice(start, codePoints.length)) : "";
    }

    private static String endTrim(String s) {
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
    }

    static ConfigException problem(Path file, Position at, String what, String got) {
        return new ConfigException(List.of(new ConfigProblem(file, at, "", what, got)));
    }

    private static String lowerFirst(String s) {
        return s.isEmpty() ? s : Character.toLowerCase(s.charAt(0)) + s.substring(1);
    }
}
