/**
 * The managed command's life on this host: it is spawned in its own session and process group,
 * stopped as a whole group (stop signal, then SIGKILL), restarted by policy, and guarded by a
 * watchdog outside the JVM that stops it when the agent stops renewing its lease or dies. Hooks
 * and the fence run here too, each in its own group with a time limit. What is recorded in
 * {@code state_dir} before each start lets a restarted agent prove that the previous run's command
 * is gone (the restart certificate). Nothing here knows about elections: the agent's loop maps the
 * core's effects onto {@link io.quorumd.command.Supervisor} and hears back through
 * {@link io.quorumd.core.Event}s.
 */
package io.quorumd.command;
