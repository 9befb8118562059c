/**
 * Where the pieces meet: {@link io.quorumd.AgentFactory} builds a running agent in the order that
 * keeps the guarantees (lock state_dir, load term and vote, restart certificate, bind, READY), and
 * {@link io.quorumd.Agent} is the event loop, the one thread that owns the core and applies its
 * effects. {@link io.quorumd.Main} only exits with the CLI's status.
 */
package io.quorumd;
