package io.quorumd.storage;

import io.quorumd.log.LogEntry;
import io.quorumd.storage.LogSegment.Segment;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What {@link LogStorage#open} does before the log can be used: read every segment, check that
 * they chain (each starts where the one before ended, the first at or before the snapshot's next
 * index), repair the one thing a crash may leave (a torn tail in the last segment, or a last
 * segment whose header a crash interrupted) and finish an interrupted compaction. Everything else
 * throws {@link LogCorruptException}.
 */
final class LogRecovery {
    private static final Pattern SEGMENT_NAME = Pattern.compile("segment-([0-9]{20})\\.log");

    /** The checked segments by first index, the entries after the base, and what was repaired or noticed. */
    record Recovered(TreeMap<Long, Segment> segments, List<LogEntry> entries, List<String> notes, long termAtBase) {
    }

    private LogRecovery() {
    }

    static Recovered recover(Path dir, long baseIndex, Disk disk) throws LogCorruptException, IOException {
        List<String> notes = new ArrayList<>();
        TreeMap<Long, Path> files = new TreeMap<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                Matcher m = SEGMENT_NAME.matcher(p.getFileName().toString());
                if (m.matches()) files.put(Long.parseLong(m.group(1)), p);
                else notes.add("ignored " + p + ": not a log segment");
            }
        }
        TreeMap<Long, Segment> segments = new TreeMap<>();
        List<LogEntry> loaded = new ArrayList<>();
        long termAtBase = 0;
        Segment prev = null;
        boolean changedDir = false;
        for (Map.Entry<Long, Path> f : files.entrySet()) {
            boolean last = f.getKey().equals(files.lastKey());
            Path path = f.getValue();
            LogSegment.Scan scan = LogSegment.scan(path, f.getKey(), last);
            if (scan.headerTorn()) {   // only ever the last one
                disk.delete(path);
                changedDir = true;
                notes.add("removed " + path + ": a crash interrupted its creation (" + scan.tornBytes()
                        + " bytes of its header); it held no entries");
                break;
            }
            if (prev != null && scan.firstIndex() != prev.lastIndex + 1)
                throw new LogCorruptException(path, 12, "it starts at index " + scan.firstIndex() + " but the segment "
                        + prev.path.getFileName() + " before it ends at " + prev.lastIndex + (scan.firstIndex() > prev.lastIndex + 1
                        ? ": a segment is missing" : ": the segments overlap"));
            if (prev == null && scan.firstIndex() > baseIndex + 1)
                throw new LogCorruptException(path, 12, "the first segment starts at index " + scan.firstIndex()
                        + " but the snapshot covers only up to " + baseIndex + ": entries " + (baseIndex + 1) + ".."
                        + (scan.firstIndex() - 1) + " are missing (a segment or a snapshot is missing)");
            if (prev != null && !scan.entries().isEmpty() && scan.entries().get(0).term() < prev.lastTerm)
                throw new LogCorruptException(path, LogSegment.HEADER_BYTES, "its first entry has term "
                        + scan.entries().get(0).term() + ", below the term " + prev.lastTerm + " that ends the segment before it");
            if (scan.tornBytes() > 0) {
                try (FileChannel ch = disk.open(path, EnumSet.of(StandardOpenOption.WRITE))) {
                    ch.truncate(scan.validBytes());
                    ch.force(true);
                }
                notes.add("truncated a torn tail of " + path + " at byte " + scan.validBytes() + " (" + scan.tornBytes()
                        + " bytes of a write that a crash interrupted; it was never acknowledged); the log ends at index "
                        + scan.lastIndex());
            }
            Segment seg = new Segment(scan.firstIndex(), path, scan.lastIndex(),
                    scan.entries().isEmpty() && prev != null ? prev.lastTerm : scan.lastTerm(), scan.validBytes());
            segments.put(seg.firstIndex, seg);
            for (LogEntry e : scan.entries()) {
                if (e.index() > baseIndex) loaded.add(e);
                else if (e.index() == baseIndex) termAtBase = e.term();
            }
            prev = seg;
        }
        // wholly covered by the snapshot: a compaction the crash interrupted. An empty last segment
        // right after the snapshot stays: the next entry goes there.
        while (!segments.isEmpty() && segments.firstEntry().getValue().lastIndex <= baseIndex
                && !(segments.firstEntry().getValue().isEmpty() && segments.firstKey() == baseIndex + 1)) {
            Segment s = segments.pollFirstEntry().getValue();
            disk.delete(s.path);
            changedDir = true;
            notes.add("removed " + s.path + (s.isEmpty() ? ": it held no entries and starts inside the snapshot at index "
                    + baseIndex : ": the snapshot at index " + baseIndex + " covers it (an interrupted compaction)"));
        }
        if (changedDir) disk.fsyncDirectory(dir);
        // the entry at the base counts only while a segment holding it stays
        if (segments.isEmpty() || segments.firstKey() > baseIndex) termAtBase = 0;
        return new Recovered(segments, loaded, notes, termAtBase);
    }
}
