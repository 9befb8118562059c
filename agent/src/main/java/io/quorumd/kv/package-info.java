/**
 * The replicated key-value store's state machine, {@link io.quorumd.kv.KvMachine}: what SPEC's
 * "Replicated key-value store" fixes about revisions, compare-and-set, fencing, limits and watches,
 * as a pure class that committed log entries are applied to. Not yet wired into the agent: the log
 * ({@code io.quorumd.log}) and the core will feed it committed entries and serve reads from it.
 *
 * <h2>Revisions</h2>
 * One global revision, etcd's model: it starts at 0 and every applied write (a put, or a delete of
 * a key that exists) adds 1; a refused, fenced, failed-compare or not-found command adds nothing.
 * Each key keeps its create revision (the write that created it since it last did not exist) and its
 * modify revision (its last put). A write's expected revision compares the modify revision; 0 means
 * "the key must not exist" (create only). A delete of a missing key is not-found whatever it expected.
 *
 * <h2>Fencing: why the entry's term</h2>
 * A write carrying a fence term T succeeds only if T is the term of the entry that carries it. The
 * entry's term <em>is</em> the term of the master that appended it (Raft: a master appends only in
 * its own term), so the check asks exactly "is T the term of the master that accepted this write",
 * and it asks it of data every node has identically: the committed entry. A request the managed
 * command of a deposed master (term 3) sends late, forwarded to the new master (term 4), is appended
 * in term 4 and fails with {@code Fenced(3, 4)} on every node, deterministically. Checking instead
 * against "the current term" as each node knows it when applying would not be deterministic: nodes
 * apply the same entry at different times, possibly after different elections, and could disagree
 * about the result. The other direction holds too: an entry the term-3 master appended with
 * fence 3 and a term-4 master committed later still carries term 3 (Raft never rewrites an entry's
 * term), so it succeeds, rightly: the term-3 master was master when it accepted the write, and the
 * log orders the write before everything term 4 appends.
 *
 * <h2>Limits and the store's size</h2>
 * Keys are 1 to 512 bytes of valid UTF-8 (strict decoding: malformed sequences, overlong forms and
 * encoded surrogates are refused), values at most 32 KiB. The store's size, which
 * {@code kv.max_bytes} bounds, is the sum over live keys of the key's UTF-8 length plus the value's
 * length: what clients wrote, not what the JVM or the snapshot spends on it (per-key revisions and
 * encoding overhead are not counted; the watch history is not counted either, it has bounds of its
 * own). A put is refused ({@code STORE_SIZE}) when the size after it would exceed
 * {@code max_bytes} and be larger than before; so a store found above the quota (restored with a
 * smaller {@code max_bytes}) still accepts deletes and shrinking puts. Every refusal is a
 * {@link io.quorumd.kv.KvResult.Refused} whose message names the limit and the figures, e.g. "value
 * is 40000 bytes; the limit is 32768 (32 KiB)". Refusals are results of applying an entry, so
 * {@code max_bytes} must be the same on every node (carried in the cluster's configuration or the
 * log), or nodes would disagree about which writes happened.
 *
 * <h2>Watches</h2>
 * The machine keeps the last committed changes (revision, key, put or delete, value), bounded by a
 * count and by their key plus value bytes ({@link io.quorumd.kv.KvLimits}).
 * {@code changesSince(rev, selector)} answers every matching change with a revision of {@code rev}
 * or later, or {@link io.quorumd.kv.Changes.Compacted} naming the oldest revision still available
 * when the history no longer reaches back to {@code rev}: never a silently partial answer.
 *
 * <h2>Snapshot format, version 1</h2>
 * One MessagePack array; strings are MessagePack str (UTF-8), values bin, integers int:
 * <pre>
 * [version:int = 1, appliedIndex, appliedTerm, revision, historyStart,
 *  keys:    [[key:str, value:bin, createRevision, modRevision], ...]   (in UTF-8 byte order of key)
 *  history: [[revision, type:int (0 put, 1 delete), key:str, value:bin|nil], ...]   (oldest first)]
 * </pre>
 * {@code historyStart}: every change with a revision at or above it is in {@code history}. The same
 * state always encodes to the same bytes. A CRC, fsync and atomic rename are the storage layer's.
 */
package io.quorumd.kv;
