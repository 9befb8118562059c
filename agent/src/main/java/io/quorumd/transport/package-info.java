/**
 * The network, with JeroMQ: keep-alives on PUB/SUB, requests on REQ to a peer's ROUTER, and a
 * TCP connect probe that tells a dead agent (connection refused) from mere silence.
 * {@link io.quorumd.transport.ZmqTransport} owns every ZMQ socket on one I/O thread, because ZMQ
 * sockets are not thread-safe; other threads hand it work through a queue and a wake-up message, and
 * it hands the agent {@link io.quorumd.core.Event}s. It knows nothing of elections: it moves
 * frames, enforces deadlines so that no socket wedges, and counts what it drops.
 */
package io.quorumd.transport;
