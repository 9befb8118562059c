/**
 * The configuration file, from bytes to immutable records. Everything an operator can get wrong
 * in {@code quorumd.yaml} is caught here, before the agent binds a socket or starts a command, and
 * reported as {@code FILE:LINE:COL: path.to.key: what is wrong (got X)} so that the fix is one
 * look away. YAML is only composed into a node tree (SnakeYAML's safe path): no object is ever
 * constructed from the document's own type information.
 */
package io.quorumd.config;
