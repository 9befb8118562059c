/**
 * Durable term and vote, and the replicated log's segments and snapshots. Election safety across
 * restarts rests on the state file: a node that forgot its vote could vote twice in one term, so it
 * is written with fsync and an atomic rename, a damaged file stops the agent instead of being
 * reset, and a lock keeps two agents out of one {@code state_dir}. The log and snapshots follow the
 * same rules: fsync before acknowledging, atomic rename, a checksum everywhere, and damage stops
 * the agent with the file and offset ({@link io.quorumd.storage.LogCorruptException}); the one
 * repair is a torn tail, the partial last record of a write a crash interrupted.
 *
 * <h2>On-disk format, version 1</h2>
 * All integers are big-endian; CRCs are CRC-32C (Castagnoli, {@link java.util.zip.CRC32C}).
 *
 * <p><b>Log segments</b>, {@code state_dir/log/segment-<first index, 20 digits>.log}
 * ({@link io.quorumd.storage.LogStorage}):
 * <pre>
 * header (24 bytes)   magic "QDLOGSEG" (8) | version u32 = 1 | first index u64 | crc32c of the previous 20 bytes u32
 * record (repeated)   length u32 | ~length u32 | crc32c of the body u32 | body (length bytes)
 * body                index u64 | term u64 | payload (length - 16 bytes, at most 16 MiB)
 * </pre>
 * The records' indexes are contiguous from the header's first index, their terms never
 * decrease, and each segment starts where the one before it ended. {@code ~length} makes a damaged
 * length field corruption rather than a record that seems to run past the end of the file. Only the
 * last segment may end inside a record or header (a torn tail, truncated on open) or hold no record.
 * A record whose bytes are all present but whose CRC fails is corruption, even at the very end:
 * acknowledged entries are never dropped on a guess. A segment is created (header, fsync, directory
 * fsync) before the first record goes into it; it rolls once it holds the configured size.
 *
 * <p><b>Snapshots</b>, {@code state_dir/snapshot-<index>-<term>} ({@link io.quorumd.storage.SnapshotStore}):
 * <pre>
 * magic "QDSNAPSH" (8) | version u32 = 1 | index u64 | term u64 | data length u64 | data | crc32c of all before it u32
 * </pre>
 * written as {@code snapshot-<index>-<term>.tmp}, fsynced, renamed, directory fsynced; older
 * snapshots are deleted only after that, and the log segments it covers only after that too.
 */
package io.quorumd.storage;
