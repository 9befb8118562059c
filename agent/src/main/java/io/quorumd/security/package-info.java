/**
 * Cluster authentication: CURVE key pairs and their files (ZeroMQ's certificate format). The
 * transport uses them; the config checks them; {@code quorumd keygen} writes them.
 */
package io.quorumd.security;
