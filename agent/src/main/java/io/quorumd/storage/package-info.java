/**
 * Durable term and vote. Election safety across restarts rests on this package alone: a node that
 * forgot its vote could vote twice in one term, so the state file is written with fsync and an atomic
 * rename, a damaged file stops the agent instead of being reset, and a lock keeps two agents out of
 * one {@code state_dir}.
 */
package io.quorumd.storage;
