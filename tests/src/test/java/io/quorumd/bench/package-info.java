/**
 * {@code make bench}: measures the agent against SPEC "Targets" (fail-over of real agents per
 * fault, the cost at rest per cluster size) and writes a dated report with raw samples and plots.
 * It lives in the tests module so that it reuses the process tests' harness; no class here is a
 * JUnit test, so {@code make test} never runs it.
 */
package io.quorumd.bench;
