/**
 * The Prometheus endpoint ({@code metrics.listen}): Prometheus' own Java client library serves the
 * text format; every value is read on scrape from what the agent keeps anyway (the node's view,
 * the supervisor's status, the drop counters, a few counters the loop bumps on role changes), so
 * an agent nobody scrapes pays nothing but those increments. Without {@code metrics.listen}
 * nothing here is built and no HTTP thread exists.
 */
package io.quorumd.metrics;
