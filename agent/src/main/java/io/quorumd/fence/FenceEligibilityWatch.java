package io.quorumd.fence;

import io.quorumd.core.Event;

import java.nio.file.Path;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code self_fence.mode: required} as the core's rule: tells the event loop when the device
 * becomes unusable or usable again ({@link Event.FenceEligibility}), so that a node without it
 * does not campaign (it still votes and follows) and a master that loses it hands over. The device
 * is judged by a look at the file (it exists, is no directory, is writable) at most once a
 * second; opening it would arm a real watchdog, so only a master opens it. A master that could
 * not open it ({@link #failed}, from the self-fence's thread) stays unusable for
 * {@link #RETRY_AFTER_NANOS}, then the look decides again. The first {@link #poll} always reports.
 */
public final class FenceEligibilityWatch {
    /** After a failed open: how long the node stays without campaigning before it tries again. */
    public static final long RETRY_AFTER_NANOS = TimeUnit.SECONDS.toNanos(60);
    private static final long CHECK_EVERY_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final Path device;
    private final AtomicReference<String> failure = new AtomicReference<>();
    private boolean reportedOnce;
    private String reported;          // null: usable
    private boolean hasFailed;
    private String failedWhy;
    private long failedAtNanos;
    private long lastCheckNanos;

    public FenceEligibilityWatch(Path device) {
        this.device = device;
    }

    /** The device could not be opened or used while master (any thread). */
    public void failed(String why) {
        failure.set(why);
    }

    /** The eligibility to hand to the core now, or null when it is unchanged (loop thread only). */
    public Event.FenceEligibility poll(long nowNanos) {
        String f = failure.getAndSet(null);
        if (f != null) {
            hasFailed = true;
            failedWhy = f;
            failedAtNanos = nowNanos;
        } else if (reportedOnce && nowNanos - lastCheckNanos < CHECK_EVERY_NANOS) {
            return null;
        }
        lastCheckNanos = nowNanos;
        String why;
        if (hasFailed && nowNanos - failedAtNanos < RETRY_AFTER_NANOS) {
            why = failedWhy + " (tried again " + TimeUnit.NANOSECONDS.toSeconds(RETRY_AFTER_NANOS) + " s after the failure)";
        } else {
            hasFailed = false;
            why = SelfFence.unusableReason(device);
            if (why != null) why = device + " " + why;
        }
        if (reportedOnce && Objects.equals(why, reported)) return null;
        reportedOnce = true;
        reported = why;
        return new Event.FenceEligibility(why == null, why == null ? "" : why);
    }
}
