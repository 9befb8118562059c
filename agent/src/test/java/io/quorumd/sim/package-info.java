/**
 * Deterministic simulation of a quorumd cluster in virtual time (FoundationDB / TigerBeetle VOPR
 * style): the real {@link io.quorumd.core.Node} runs against a virtual network, virtual clocks that
 * drift, a simulated disk that loses unacknowledged writes, and a model of everything outside the
 * JVM (watchdog, the command's process group, fence hook, restart certificate). A {@link
 * io.quorumd.sim.Checker} judges every step against SPEC.md's guarantees; a failing seed replays
 * exactly and prints a readable trace.
 */
package io.quorumd.sim;
