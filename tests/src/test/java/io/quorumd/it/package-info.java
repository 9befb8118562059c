/**
 * What the process tests, the benchmark and the multi-host tests share:
 * {@link io.quorumd.it.CommandObserver}, the outside judge of exclusivity (a command runs until
 * its process group is empty), which finds the commands either by their registrations on this
 * host or in each container's {@code quorumd.service} cgroup.
 */
package io.quorumd.it;
