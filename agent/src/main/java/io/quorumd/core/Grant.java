package io.quorumd.core;

/** A vote granted to this node in its current term: what the voter knew, and when its grant arrived. */
record Grant(MasterReport report, long receivedNanos) {}
