package io.quorumd.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32C;

/**
 * Snapshots of the applied state in {@code state_dir/snapshot-<index>-<term>} (format in
 * {@code package-info.java}). {@link #store} writes a temporary file, fsyncs it, renames it into
 * place, fsyncs the directory, and only then deletes the older snapshots, so a crash at any point
 * leaves at least one whole snapshot. {@link #load} takes the newest one whose checksum holds.
 *
 * <p>Not thread-safe: one writer at a time.
 */
public final class SnapshotStore {
    static final byte[] MAGIC = "QDSNAPSH".getBytes(StandardCharsets.US_ASCII);
    static final int VERSION = 1;
    /** magic, version, index, term, data length; then the data and a CRC-32C of all before it. */
    static final int HEADER_BYTES = 8 + 4 + 8 + 8 + 8;
    static final int MAX_DATA_BYTES = Integer.MAX_VALUE - HEADER_BYTES - 4 - 16;
    private static final Pattern NAME = Pattern.compile("snapshot-([0-9]{1,19})-([0-9]{1,19})");
    private static final Pattern TMP_NAME = Pattern.compile("snapshot-[0-9]{1,19}-[0-9]{1,19}\\.(tmp|recv)");
    /** The suffix of a snapshot being received from the master, chunk by chunk (removed at start). */
    public static final String RECEIVING_SUFFIX = ".recv";

    /** The state machine's bytes after applying entries up to {@code index} (of term {@code term}). */
    public record Snapshot(long index, long term, byte[] data) {
        public Snapshot {
            if (index < 1 || term < 1)
                throw new IllegalArgumentException("snapshot index and term must be >= 1 (got " + index + ", " + term + ")");
            data = data.clone();
        }

        @Override
        public byte[] data() {
            return data.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Snapshot s && s.index == index && s.term == term && Arrays.equals(s.data, data);
        }

        @Override
        public int hashCode() {
            return Long.hashCode(index) * 31 + Long.hashCode(term) * 17 + Arrays.hashCode(data);
        }

        @Override
        public String toString() {
            return "Snapshot[index=" + index + ", term=" + term + ", data=" + data.length + " bytes]";
        }
    }

    /** The newest valid snapshot (empty when there is none) and what load noticed, for the caller to log. */
    public record Loaded(Optional<Snapshot> snapshot, List<String> notes) {
        public Loaded {
            notes = List.copyOf(notes);
        }
    }

    private final Path dir;
    private final Disk disk;

    public SnapshotStore(Path stateDir) {
        this(stateDir, Disk.REAL);
    }

    /** A store on {@code disk} (the tests' failing disk; {@link Disk#REAL} otherwise). */
    SnapshotStore(Path stateDir, Disk disk) {
        this.dir = stateDir;
        this.disk = disk;
    }

    /** The file name of a snapshot up to {@code index} of term {@code term}. */
    public static String fileName(long index, long term) {
        return "snapshot-" + index + "-" + term;
    }

    /**
     * The newest snapshot whose header, name and checksum agree. Removes temporary files of
     * interrupted writes (never renamed, so never relied on) and snapshots older than the one
     * loaded (a newer one is durable). A damaged snapshot newer than the one loaded is kept for the
     * operator and reported; the log's own check ({@link LogStorage#open}) then refuses to start if
     * the entries it covered were compacted away.
     *
     * @throws LogCorruptException snapshot files exist but none is valid
     */
    public Loaded load() throws LogCorruptException, IOException {
        List<String> notes = new ArrayList<>();
        List<Path> candidates = new ArrayList<>();
        boolean removed = false;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "snapshot-*")) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                if (TMP_NAME.matcher(name).matches()) {
                    disk.delete(p);
                    removed = true;
                    notes.add("removed " + p + " left by an interrupted snapshot write or transfer (it was never used)");
                } else if (NAME.matcher(name).matches()) {
                    candidates.add(p);
                } else {
                    notes.add("ignored " + p + ": not a snapshot file name");
                }
            }
        }
        candidates.sort(Comparator.comparingLong((Path p) -> nameIndex(p)).thenComparingLong(SnapshotStore::nameTerm).reversed());
        Snapshot found = null;
        LogCorruptException newestDamage = null;
        for (Path p : candidates) {
            if (found != null) {
                disk.delete(p);
                removed = true;
                notes.add("removed " + p + ": older than the snapshot at index " + found.index());
                continue;
            }
            try {
                found = read(p);
            } catch (LogCorruptException e) {
                if (newestDamage == null) newestDamage = e;
                notes.add("WARNING: skipped damaged snapshot " + p + " (byte " + e.offset() + ": " + e.problem()
                        + "); kept for inspection");
            }
        }
        if (removed) disk.fsyncDirectory(dir);
        if (found == null && newestDamage != null) throw newestDamage;
        return new Loaded(Optional.ofNullable(found), notes);
    }

    /**
     * Writes {@code s} durably, then deletes the older snapshots. When this returns the snapshot
     * survives a crash, and the log segments it covers may be compacted.
     */
    public void store(Snapshot s) throws IOException {
        store(s, false);
    }

    /**
     * Writes {@code s} durably; then deletes the older snapshots, all of them, or with
     * {@code keepPrevious} all but the newest of them (the agent's: a transfer of the previous
     * snapshot may still be under way until the core has heard of the new one).
     */
    public void store(Snapshot s, boolean keepPrevious) throws IOException {
        store(s, keepPrevious, i -> false);
    }

    /** {@link #store(Snapshot, boolean)}, keeping as well the older snapshots whose index {@code keep} accepts. */
    public void store(Snapshot s, boolean keepPrevious, java.util.function.LongPredicate keep) throws IOException {
        Path tmp = dir.resolve(fileName(s.index(), s.term()) + ".tmp");
        writeTemp(tmp, s);
        install(tmp, s.index(), s.term(), keepPrevious, keep);
    }

    /**
     * Makes the written and fsynced file {@code from} (a snapshot whose header and checksum were
     * checked) the snapshot {@code index}, {@code term}: renames it into place, fsyncs the directory,
     * then deletes the older snapshots (all but the newest of them with {@code keepPrevious}).
     */
    void install(Path from, long index, long term, boolean keepPrevious, java.util.function.LongPredicate keep)
            throws IOException {
        Path file = dir.resolve(fileName(index, term));
        try {
            disk.rename(from, file);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(from);
            throw new IOException("cannot rename " + from + " to " + file + ": " + StateFile.describe(e), e);
        }
        disk.fsyncDirectory(dir);
        List<Path> older = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "snapshot-*")) {
            for (Path p : ds) {
                Matcher m = NAME.matcher(p.getFileName().toString());
                if (m.matches() && !p.equals(file) && nameIndex(p) <= index) older.add(p);
            }
        }
        older.sort(Comparator.comparingLong(SnapshotStore::nameIndex));
        if (keepPrevious && !older.isEmpty()) older.remove(older.size() - 1);
        older.removeIf(p -> keep.test(nameIndex(p)));
        for (Path p : older) disk.delete(p);
        if (!older.isEmpty()) disk.fsyncDirectory(dir);
    }

    /** The file of snapshot {@code index}, {@code term} (it may not exist). */
    public Path path(long index, long term) {
        return dir.resolve(fileName(index, term));
    }

    /** The file a snapshot being received is written to until it is complete. */
    public Path receivingPath(long index, long term) {
        return dir.resolve(fileName(index, term) + RECEIVING_SUFFIX);
    }

    /**
     * Reads and checks the stored snapshot {@code index}, {@code term}.
     *
     * @throws java.nio.file.NoSuchFileException it is not held (any more)
     */
    public Snapshot read(long index, long term) throws LogCorruptException, IOException {
        return read(path(index, term), index, term);
    }

    /** Writes and fsyncs the temporary file, without renaming it (a crash right after this leaves only it). */
    void writeTemp(Path tmp, Snapshot s) throws IOException {
        byte[] bytes = encode(s);
        try (FileChannel ch = disk.open(tmp,
                EnumSet.of(StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-r-----")))) {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) ch.write(b);
            ch.force(true);
        } catch (IOException | RuntimeException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException | RuntimeException ignored) {
                // load() removes it next time; the older snapshots are untouched either way
            }
            throw new IOException("cannot write snapshot " + tmp + ": " + StateFile.describe(e), e);
        }
    }

    static byte[] encode(Snapshot s) {
        byte[] data = s.data;
        if (data.length > MAX_DATA_BYTES) throw new IllegalArgumentException("snapshot of " + data.length + " bytes is too large");
        ByteBuffer b = ByteBuffer.allocate(HEADER_BYTES + data.length + 4);
        b.put(MAGIC).putInt(VERSION).putLong(s.index()).putLong(s.term()).putLong(data.length).put(data);
        b.putInt(crc(b.array(), b.position()));
        return b.array();
    }

    /** Reads and checks one snapshot file. */
    Snapshot read(Path p) throws LogCorruptException, IOException {
        return read(p, nameIndex(p), nameTerm(p));
    }

    /** Reads and checks a snapshot file that must hold snapshot {@code expectIndex}, {@code expectTerm}. */
    Snapshot read(Path p, long expectIndex, long expectTerm) throws LogCorruptException, IOException {
        long size = Files.size(p);
        if (size > HEADER_BYTES + (long) MAX_DATA_BYTES + 4)
            throw new LogCorruptException(p, 0, "it is " + size + " bytes, larger than any snapshot");
        byte[] all = Files.readAllBytes(p);
        if (all.length < HEADER_BYTES + 4)
            throw new LogCorruptException(p, all.length, "it is truncated (" + all.length + " bytes, less than a header)");
        if (!Arrays.equals(all, 0, MAGIC.length, MAGIC, 0, MAGIC.length))
            throw new LogCorruptException(p, 0, "it does not start with " + new String(MAGIC, StandardCharsets.US_ASCII));
        ByteBuffer b = ByteBuffer.wrap(all);
        int stored = b.getInt(all.length - 4);
        int computed = crc(all, all.length - 4);
        if (stored != computed)
            throw new LogCorruptException(p, all.length - 4, "its checksum does not match (stored crc32c "
                    + String.format("%08x", stored) + ", computed " + String.format("%08x", computed) + ")");
        int version = b.getInt(8);
        if (version != VERSION)
            throw new LogCorruptException(p, 8, "it has format v" + Integer.toUnsignedString(version)
                    + "; this quorumd reads only v" + VERSION);
        long index = b.getLong(12);
        long term = b.getLong(20);
        long length = b.getLong(28);
        if (length != all.length - HEADER_BYTES - 4)
            throw new LogCorruptException(p, 28, "its header says " + length + " bytes of data, the file holds "
                    + (all.length - HEADER_BYTES - 4));
        if (index != expectIndex || term != expectTerm)
            throw new LogCorruptException(p, 12, "its header says index " + index + ", term " + term
                    + ", its name says index " + expectIndex + ", term " + expectTerm);
        if (index < 1 || term < 1)
            throw new LogCorruptException(p, 12, "its index " + index + " or term " + term + " is below 1");
        return new Snapshot(index, term, Arrays.copyOfRange(all, HEADER_BYTES, all.length - 4));
    }

    private static long nameIndex(Path p) {
        return nameField(p, 1);
    }

    private static long nameTerm(Path p) {
        return nameField(p, 2);
    }

    private static long nameField(Path p, int group) {
        Matcher m = NAME.matcher(p.getFileName().toString());
        if (!m.matches()) throw new IllegalArgumentException("not a snapshot file name: " + p);
        try {
            return Long.parseLong(m.group(group));
        } catch (NumberFormatException e) {
            return -1;   // beyond a long: read() reports the mismatch with the header
        }
    }

    private static int crc(byte[] b, int len) {
        CRC32C c = new CRC32C();
        c.update(b, 0, len);
        return (int) c.getValue();
    }
}
