/**
 * Real agents (separate JVMs through the launcher) on 127.0.0.1: {@link io.quorumd.it.local.LocalCluster}
 * starts and faults them by PID, {@link io.quorumd.it.CommandObserver} judges exclusivity
 * from outside by polling /proc. The process tests and the soak live here; the benchmark reuses both.
 */
package io.quorumd.it.local;
