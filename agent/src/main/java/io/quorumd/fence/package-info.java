/**
 * Host self-fence ({@code self_fence}): a watchdog device that the master pets only while its
 * lease holds, so that a host frozen or starved past its lease resets before another node may
 * start the command (what Patroni and SBD do). Off by default; never opened in {@code off} mode.
 */
package io.quorumd.fence;
