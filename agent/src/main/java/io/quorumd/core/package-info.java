/**
 * The pure election and lease state machine. Nothing here has threads, sockets, files, clocks or
 * randomness of its own: {@link io.quorumd.core.Node#handle} takes an {@link io.quorumd.core.Event}
 * and the time, and returns {@link io.quorumd.core.Effect}s for the caller to carry out in order.
 * The same code runs in the agent and, thousands of times per test run, in the simulator.
 */
package io.quorumd.core;
