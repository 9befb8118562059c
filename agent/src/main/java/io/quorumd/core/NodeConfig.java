package io.quorumd.core;

/**
 * What the core needs to know of the configuration.
 *
 * @param fenceConfigured a fence hook exists, so a new master without proof may try it
 */
public record NodeConfig(Peers peers, Timing timing, boolean fenceConfigured) {}
