/**
 * A linearizability checker for histories of the replicated store's operations, for the simulator
 * ({@code io.quorumd.sim}) and the multi-process tests (the {@code tests} module, through the
 * agent's test-jar). Not yet wired into either: nothing records histories yet.
 *
 * <h2>Histories</h2>
 * {@link io.quorumd.lin.History} records each operation: client id, invocation time, response time
 * and answer, or no answer (an unknown outcome: the op may take effect at any time after its
 * invocation, or never). Calls are get, put, compare-and-set on the key's modify revision (0: create
 * only) and delete (optionally conditional); answers are a value with its modify revision, not
 * found, written with the new revision (0 when the reply did not say), compare failed, no effect
 * (refused or fenced: dropped before checking) or unknown. A get never answered constrains nothing
 * and is dropped. An answer at the same instant as another op's invocation is concurrent with it.
 *
 * <pre>{@code
 * History h = new History();
 * int id = h.invoke(client, now, new Call.Cas("k", 7, "v"));   // when the client sends it
 * h.respond(id, later, new Result.Written(8));                 // when its answer arrives (or never)
 * Verdict v = Linearizability.check(h);
 * assertTrue(v.linearizable(), v::toString);                   // the violations, explained
 * }</pre>
 *
 * <h2>The model, and why splitting it by key stays sound</h2>
 * The store's sequential specification, M: a map and one global revision counter; each successful
 * write adds 1 to the counter and gives the written key (or the deletion) that revision; a get
 * returns the value and the key's modify revision. The global counter couples the keys, so M is not
 * a product of per-key objects and Herlihy and Wing's locality does not apply directly. The checker
 * therefore checks conditions that every history linearizable under M satisfies; each failed
 * condition is a real violation (no false alarms), though not every violation of M is caught:
 * <ol>
 *   <li><b>Per key</b>, Wing and Gong's search with Lowe's memoization (a cache of (linearized-set
 *       bitset, model state); as Porcupine, per-key partitioning: P-compositionality) against a
 *       per-key model M<sub>k</sub>: the key's value and modify revision, plus a <i>floor</i>, the
 *       largest revision of its writes so far. A write with revision R may take effect only if
 *       R &gt; floor: within one key, revisions increase in linearization order. Sound: restricting
 *       a linearization under M to one key's ops gives one under M<sub>k</sub>, because the counter
 *       only grows. An unknown write's revision is unknown until a read (or compare) reveals it; a
 *       revealed revision must also be above the floor.</li>
 *   <li><b>Unique revisions</b>: no two writes report the same revision (the counter never repeats).</li>
 *   <li><b>Revisions follow real time, across keys</b>: in a linearization under M, successful
 *       writes appear in revision order, and every op happens at a counter value g: a write creating
 *       R at g = R, a read of key k returning modify revision m at some g with m &le; g &lt; n, n the
 *       next known revision of a write to k (a read finding k absent: g &lt; the first known revision
 *       of a write to k, when no delete of k may have happened). Placing writes at 2R and reads at
 *       2g+1, an op that completed before another was invoked must not sit later on that line; the
 *       checker propagates lower bounds in invocation order (O(n log n)) and reports the pair that
 *       breaks it. This catches what no single key shows: y read at revision 2, then x read absent
 *       although x's write has revision 1.</li>
 *   <li><b>Provenance</b>: a read's value was written to that key by a write invoked before the read
 *       returned, with the revision the read reports (a clearer message than the search's).</li>
 * </ol>
 * Not caught, for instance: constraints a compare failure or an unknown write carries across keys,
 * and absent reads of a key that may have been deleted (their position on the revision line is not
 * one interval). Gaps in the revisions are not checked (an unknown write may have used them).
 *
 * <h2>Explanations</h2>
 * A per-key failure is shrunk before it is reported: cut at the op that could not be placed (later
 * invocations dropped, answers after it treated as unknown), then ops dropped one at a time while
 * the rest still fails, keeping the writes whose value or revision a kept op names; the
 * {@link io.quorumd.lin.Violation} lists the ops left, the longest consistent order and the state it
 * leaves, and the op that could not follow.
 *
 * <h2>Cost</h2>
 * A 2,000-op history over 10 keys with 8 clients checks in well under a second
 * ({@code LinearizabilityRandomTest} prints the time). Refuting a key is the expensive case: every
 * unknown-outcome write stays pending to the end of the history, so a failing key with k of them may
 * need about 2<sup>k</sup> times the work (2,000 ops on one key with 18 unknown writes did not finish
 * in minutes). Each key's search therefore has a step budget
 * ({@link io.quorumd.lin.Linearizability#DEFAULT_BUDGET}); a key that spends it is reported in
 * {@link io.quorumd.lin.Verdict#undecided()}, and such a verdict is never "linearizable". Keep the
 * unknown outcomes per key few (or the keys many) in the histories fed to it.
 */
package io.quorumd.lin;
