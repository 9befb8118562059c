package io.quorumd.storage;

import io.quorumd.core.TermState;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.zip.CRC32;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's {@link TermState} in {@code state_dir/state}, a small text file a human can read:
 * <pre>
 * quorumd-state v1
 * term=7
 * voted_for=node-b
 * crc32=5d0a3c1e
 * </pre>
 * {@code voted_for=} with nothing after it means no vote in this term; the CRC-32 covers every byte
 * of the lines above it. {@link #store} writes {@code state.tmp} in the same directory, fsyncs it,
 * renames it over {@code state} and fsyncs the directory, so after a crash the file holds either
 * the old or the new state, never a mix. {@link #load} never resets a damaged file: it throws.
 *
 * <p>Not thread-safe: one writer at a time (the {@link Persister}); {@link StateDirLock} keeps
 * other agents out of the directory.
 */
public final class StateFile {
    public static final String FILE_NAME = "state";
    static final String TMP_NAME = "state.tmp";
    static final String HEADER = "quorumd-state v1";
    private static final String HEADER_PREFIX = "quorumd-state v";
    private static final int MAX_BYTES = 4096;
    private static final Logger log = LoggerFactory.getLogger(StateFile.class);

    private final Path dir;
    private final Path file;
    private final Disk disk;

    public StateFile(Path stateDir) {
        this(stateDir, Disk.REAL);
    }

    /** A state file on {@code disk} (the tests' failing disk; {@link Disk#REAL} otherwise). */
    StateFile(Path stateDir, Disk disk) {
        this.dir = stateDir;
        this.file = stateDir.resolve(FILE_NAME);
        this.disk = disk;
    }

    /** {@code state_dir/state}. */
    public Path path() {
        return file;
    }

    /**
     * The persisted state; {@link TermState#INITIAL} when there is no state file (a fresh node).
     * Removes a {@code state.tmp} left by a write that a crash interrupted: that write was never
     * acknowledged, so nothing depends on it.
     *
     * @throws StateFileException the file exists but is corrupt, truncated, unreadable or of an
     *                            unknown version; the message says what to do
     */
    public TermState load() throws StateFileException {
        removeLeftovers();
        byte[] bytes;
        try (InputStream in = Files.newInputStream(file)) {
            bytes = in.readNBytes(MAX_BYTES + 1);
        } catch (NoSuchFileException e) {
            return TermState.INITIAL;
        } catch (AccessDeniedException e) {
            throw new StateFileException("quorumd: cannot read state file " + file + ": permission denied. "
                    + "The agent's user must be able to read and write " + dir + " and the files in it "
                    + "(chown -R quorumd:quorumd " + dir + ").", e);
        } catch (IOException e) {
            throw new StateFileException("quorumd: cannot read state file " + file + ": " + describe(e) + ". "
                    + "Fix the file system or the path (state_dir) and start again.", e);
        }
        return decode(bytes);
    }

    /**
     * Writes {@code state} durably: when this returns, the state survives a crash or power loss.
     *
     * @throws IOException naming the file and the cause (for example "No space left on device");
     *                     the previous state is then still intact on disk
     */
    public void store(TermState state) throws IOException {
        byte[] bytes = encode(state);
        Path tmp = dir.resolve(TMP_NAME);
        try {
            try (FileChannel ch = disk.open(tmp,
                    EnumSet.of(StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE),
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-r-----")))) {
                ByteBuffer b = ByteBuffer.wrap(bytes);
                while (b.hasRemaining()) ch.write(b);
                ch.force(true);
            }
            // ATOMIC_MOVE is rename(2): it replaces the old file in one step
            disk.rename(tmp, file);
        } catch (IOException | RuntimeException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException | RuntimeException ignored) {
                // load() removes it next time; the old state file is untouched either way
            }
            throw new IOException("cannot write state file " + file + ": " + describe(e), e);
        }
        try (FileChannel d = disk.open(dir, EnumSet.of(StandardOpenOption.READ))) {
            // the rename is durable only once the directory entry is
            d.force(true);
        } catch (IOException e) {
            throw new IOException("cannot fsync state directory " + dir + " after writing " + file + ": " + describe(e), e);
        }
    }

    /** The file's bytes for {@code state}. */
    static byte[] encode(TermState state) {
        String voted = state.votedFor() == null ? "" : state.votedFor();
        if (voted.isEmpty() && state.votedFor() != null)
            throw new IllegalArgumentException("votedFor must be null or a node id, not empty");
        for (int i = 0; i < voted.length(); i++) {
            char c = voted.charAt(i);
            if (c < 0x20 || c == 0x7f)
                throw new IllegalArgumentException("votedFor holds a control character: " + voted.codePoints()
                        .mapToObj(cp -> cp < 0x20 || cp == 0x7f ? String.format("\\x%02x", cp) : Character.toString(cp))
                        .reduce("", String::concat));
        }
        String body = HEADER + "\nterm=" + state.term() + "\nvoted_for=" + voted + "\n";
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        return (body + "crc32=" + crc(b, b.length) + "\n").getBytes(StandardCharsets.UTF_8);
    }

    /** Parses the file's bytes; every way they can be wrong is a {@link StateFileException}. */
    TermState decode(byte[] bytes) throws StateFileException {
        if (bytes.length > MAX_BYTES)
            throw corrupt("it is larger than " + MAX_BYTES + " bytes, so it is not a quorumd state file");
        if (bytes.length == 0) throw corrupt("it is empty");
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw corrupt("it is not valid UTF-8 text");
        }
        int firstNl = text.indexOf('\n');
        String first = firstNl < 0 ? text : text.substring(0, firstNl);
        if (!first.equals(HEADER)) {
            String v = first.startsWith(HEADER_PREFIX) ? first.substring(HEADER_PREFIX.length()) : "";
            if (v.matches("[1-9][0-9]{0,8}"))   // v1 itself matched above: this is a later version
                throw new StateFileException("quorumd: state file " + file + " has format v" + v
                        + ", written by a newer quorumd; this version reads only v1. Run the newer quorumd "
                        + "(do not downgrade a node: it would have to forget its vote).");
            throw corrupt("its first line is not '" + HEADER + "' (got '" + abbreviate(first) + "')");
        }
        if (!text.endsWith("\n")) throw corrupt("it is truncated (its last line is incomplete)");
        String[] lines = text.substring(0, text.length() - 1).split("\n", -1);
        if (lines.length < 4) throw corrupt("it is truncated (" + lines.length + " of 4 lines)");
        if (lines.length > 4) throw corrupt("it has " + lines.length + " lines, expected 4");
        if (!lines[3].startsWith("crc32=") || !lines[3].substring(6).matches("[0-9a-f]{8}"))
            throw corrupt("its last line is not 'crc32=' and 8 hex digits (got '" + abbreviate(lines[3]) + "')");
        int covered = (lines[0] + "\n" + lines[1] + "\n" + lines[2] + "\n").getBytes(StandardCharsets.UTF_8).length;
        String stored = lines[3].substring(6);
        String computed = crc(bytes, covered);
        if (!stored.equals(computed))
            throw corrupt("its checksum does not match (stored crc32 " + stored + ", computed " + computed + ")");
        if (!lines[1].startsWith("term=") || !lines[1].substring(5).matches("[0-9]{1,19}"))
            throw corrupt("line 2 is not 'term=' and a number (got '" + abbreviate(lines[1]) + "')");
        long term;
        try {
            term = Long.parseLong(lines[1].substring(5));
        } catch (NumberFormatException e) {
            throw corrupt("its term is out of range (got '" + abbreviate(lines[1]) + "')");
        }
        if (term > TermState.MAX_TERM)
            throw new StateFileException("quorumd: state file " + file + " holds term " + term + ", beyond the largest "
                    + "term a node may hold (2^62-1 = " + TermState.MAX_TERM + "); no correct cluster reaches it, so a "
                    + "peer sent a forged or corrupt term before this version dropped such frames. quorumd will not "
                    + "start with it. Stop the agents whose state files hold such a term, move those files away, and "
                    + "start the nodes again: they begin at term 0 and elect a master among themselves.");
        if (!lines[2].startsWith("voted_for="))
            throw corrupt("line 3 is not 'voted_for=' (got '" + abbreviate(lines[2]) + "')");
        String voted = lines[2].substring(10);
        return new TermState(term, voted.isEmpty() ? null : voted);
    }

    private StateFileException corrupt(String what) {
        return new StateFileException("quorumd: state file " + file + " is damaged: " + what + ". "
                + "It holds this node's current term and vote, and quorumd will not start without them: "
                + "guessing could let this node vote twice in one term. Restore the file from a backup; or "
                + "move it away and start this node while the other nodes have a master, so it relearns "
                + "the term from them.");
    }

    private void removeLeftovers() {
        Path tmp = dir.resolve(TMP_NAME);
        try {
            if (Files.deleteIfExists(tmp))
                log.info("removed {} left by an interrupted write (it was never acknowledged)", tmp);
        } catch (IOException e) {
            log.warn("cannot remove {} left by an interrupted write: {}", tmp, describe(e));
        }
    }

    private static String crc(byte[] b, int len) {
        CRC32 c = new CRC32();
        c.update(b, 0, len);
        return HexFormat.of().toHexDigits((int) c.getValue());
    }

    private static String abbreviate(String s) {
        StringBuilder sb = new StringBuilder();
        CharBuffer cb = CharBuffer.wrap(s.length() > 40 ? s.substring(0, 40) : s);
        while (cb.hasRemaining()) {
            char c = cb.get();
            if (c < 0x20 || c == 0x7f) sb.append(String.format("\\x%02x", (int) c));
            else sb.append(c);
        }
        return s.length() > 40 ? sb + "..." : sb.toString();
    }

    /** The JDK's exception messages are often only a path; add the kind so the reason is readable. */
    static String describe(Throwable e) {
        String m = e.getMessage();
        if (e instanceof NoSuchFileException) return "no such file or directory: " + m;
        if (e instanceof AccessDeniedException) return "permission denied: " + m;
        if (e instanceof java.nio.file.FileSystemException fse)
            return fse.getReason() != null ? fse.getReason() : e.getClass().getSimpleName() + ": " + m;
        return m == null ? e.getClass().getSimpleName() : m;
    }
}
