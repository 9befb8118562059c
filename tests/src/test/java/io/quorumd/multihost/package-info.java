/**
 * Multi-host tests: the real .deb installed in Debian containers that boot systemd, one agent
 * per container, faults injected with Docker (kill, pause, network cuts and partitions,
 * restarts, upgrades). Exclusivity is judged from outside the containers: a host-side observer
 * watches each unit's cgroup for the managed command's process group on CLOCK_MONOTONIC.
 */
package io.quorumd.multihost;
