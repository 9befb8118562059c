/**
 * systemd's readiness and watchdog protocol ({@code sd_notify}) for the unit's {@code Type=notify}
 * and {@code WatchdogSec=}. The JDK cannot send on an AF_UNIX datagram socket, so this calls libc
 * through JNA: no libsystemd needed, and a no-op outside systemd.
 */
package io.quorumd.systemd;
