/**
 * The bytes on the wire: {@link io.quorumd.wire.Codec} turns a {@link io.quorumd.core.Message} into
 * one MessagePack frame and back, and {@link io.quorumd.wire.DropCounters} keeps count of the frames
 * it refused. Everything that arrives from the network is untrusted here: the decoder validates
 * every field, never throws and never allocates from a length the frame declares, so that a bad
 * frame costs a counter and a rate-limited log line, never a crash or a state change.
 */
package io.quorumd.wire;
