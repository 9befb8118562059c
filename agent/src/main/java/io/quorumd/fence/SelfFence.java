package io.quorumd.fence;

import io.quorumd.config.SelfFenceConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The master's watchdog device, petted only while its lease holds.
 *
 * <p>The device is opened (which starts its timer) at the first lease renewal of a mastership, its
 * timeout set to the lease rounded down to whole seconds (at least 1 s, the API's unit), and petted
 * every heartbeat by this class's own thread, but only while the lease's end, as the loop last
 * renewed it, is still ahead: a loop that stops renewing (a frozen or starved agent) or a host
 * frozen as a whole stops the petting, and the device resets the host. Once this node is no
 * longer master and its command's group is empty (the agent says so with {@link #disarm}), the
 * device is closed with the magic 'V' and stops; likewise on a clean stop of the agent.
 *
 * <p>A lease lost while the node runs on (a partition) stops the petting too: if the command
 * then takes longer than the device's timeout to stop, the host resets. That is the point: the
 * command must be gone before another master may start its own.
 */
public final class SelfFence implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SelfFence.class);

    /** What to tell the agent when the device cannot be used while this node is master. */
    public interface Failure {
        void deviceUnusable(String why);
    }

    private final SelfFenceConfig.Mode mode;
    private final Path device;
    private final int timeoutSeconds;
    private final long petIntervalNanos;
    private final Failure failure;
    private final Thread thread;
    private final Object lock = new Object();

    // under lock
    private long leaseEndNanos;
    private boolean leaseKnown;
    private boolean disarmRequested;
    private boolean closing;

    // the thread's, read by metrics
    private volatile boolean open;
    private volatile long pets;
    private WatchdogDevice dev;
    private boolean failed;

    private SelfFence(SelfFenceConfig c, long leaseNanos, long heartbeatNanos, Failure failure) {
        this.mode = c.mode();
        this.device = c.device();
        this.timeoutSeconds = (int) Math.max(1, TimeUnit.NANOSECONDS.toSeconds(leaseNanos));
        this.petIntervalNanos = Math.max(TimeUnit.MILLISECONDS.toNanos(10), heartbeatNanos);
        this.failure = failure;
        this.thread = new Thread(this::run, "quorumd-self-fence");
        thread.setDaemon(true);
    }

    /** Why {@code d} cannot be a watchdog device now ("does not exist", ...), or null when it may be. */
    public static String unusableReason(Path d) {
        return !Files.exists(d) ? "does not exist" : Files.isDirectory(d) ? "is a directory"
                : !Files.isWritable(d) ? "is not writable by this user" : null;
    }

    /**
     * The self-fence for {@code c}: null when it is off, or {@code auto} without the device. With
     * {@code required} it exists even while the device is missing: the node then runs without
     * campaigning ({@link FenceEligibilityWatch}) and opens the device once it is master.
     */
    public static SelfFence create(SelfFenceConfig c, long leaseNanos, long heartbeatNanos, Failure failure) {
        if (c.mode() == SelfFenceConfig.Mode.OFF) return null;
        Path d = c.device();
        String missing = unusableReason(d);
        if (missing != null) {
            if (c.mode() == SelfFenceConfig.Mode.REQUIRED) {
                log.warn("self_fence.device {} {}, and self_fence.mode is required: this node votes and follows but"
                        + " does not campaign until the device is usable (load a watchdog driver, e.g. modprobe"
                        + " softdog, or set mode: auto)", d, missing);
            } else {
                log.info("self-fence: {} {}; running without it (self_fence.mode: auto)", d, missing);
                return null;
            }
        }
        SelfFence f = new SelfFence(c, leaseNanos, heartbeatNanos, failure);
        if (TimeUnit.SECONDS.toNanos(f.timeoutSeconds) > leaseNanos) {
            log.warn("self-fence: the lease ({} ms) is under the device's smallest timeout (1 s): a frozen master's"
                    + " host resets up to 1 s after its last pet", TimeUnit.NANOSECONDS.toMillis(leaseNanos));
        }
        f.thread.start();
        log.info("self-fence: {} with {} ({}); opened at the first lease of a mastership", c.mode().yamlName(), d,
                "timeout " + f.timeoutSeconds + " s");
        return f;
    }

    /** The lease now ends at {@code leaseEndNanos} ({@link System#nanoTime()}): arm and pet until then. */
    public void leaseRenewed(long leaseEndNanos) {
        synchronized (lock) {
            this.leaseEndNanos = leaseEndNanos;
            this.leaseKnown = true;
            this.disarmRequested = false;
            lock.notifyAll();
        }
    }

    /** This node is no longer master and its command is gone: close the device with the magic 'V'. */
    public void disarm() {
        synchronized (lock) {
            if (disarmRequested || !leaseKnown) return;
            disarmRequested = true;
            leaseKnown = false;
            lock.notifyAll();
        }
    }

    /** True while the device is open (armed). */
    public boolean isOpen() {
        return open;
    }

    /** Whether a disarm is due: armed and no lease pending since. Cheap; for the loop. */
    public boolean armed() {
        synchronized (lock) {
            return leaseKnown && !disarmRequested;
        }
    }

    public long pets() {
        return pets;
    }

    public String mode() {
        return mode.yamlName();
    }

    /** Stops the thread; a device still open is closed with the magic 'V' (a clean stop). */
    @Override
    public void close() {
        synchronized (lock) {
            closing = true;
            lock.notifyAll();
        }
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void run() {
        while (true) {
            boolean pet;
            boolean disarmNow;
            synchronized (lock) {
                if (closing) break;
                long now = System.nanoTime();
                pet = leaseKnown && leaseEndNanos - now > 0;
                disarmNow = disarmRequested;
                disarmRequested = disarmRequested && dev != null;
                long wait = pet ? petIntervalNanos : TimeUnit.SECONDS.toNanos(1);
                if (!pet && !disarmNow) {
                    try {
                        TimeUnit.NANOSECONDS.timedWait(lock, wait);
                    } catch (InterruptedException e) {
                        break;
                    }
                    continue;
                }
            }
            if (disarmNow) {
                disarmDevice("this node is no longer master and its command is gone");
                synchronized (lock) {
                    disarmRequested = false;
                }
                continue;
            }
            if (dev == null && !failed) openDevice();
            if (dev != null) {
                try {
                    dev.pet();
                    pets++;
                } catch (IOException e) {
                    log.error("self-fence: {}; the device will reset this host", e.getMessage());
                }
            }
            synchronized (lock) {
                if (closing) break;
                try {
                    TimeUnit.NANOSECONDS.timedWait(lock, petIntervalNanos);
                } catch (InterruptedException e) {
                    break;
                }
            }
        }
        if (dev != null) disarmDevice("the agent stops");
    }

    private void openDevice() {
        try {
            dev = WatchdogDevice.open(device);
        } catch (IOException | RuntimeException e) {
            failed = true;
            String why = "self-fence: " + e.getMessage();
            log.error("{}", why);
            if (mode == SelfFenceConfig.Mode.REQUIRED) failure.deviceUnusable(why);
            return;
        }
        open = true;
        int took = dev.setTimeout(timeoutSeconds);
        if (took < 0) log.warn("self-fence: {} took no timeout (is it a watchdog device?); petting it every {} ms anyway",
                device, TimeUnit.NANOSECONDS.toMillis(petIntervalNanos));
        else log.info("self-fence: {} armed, timeout {} s", device, took);
    }

    private void disarmDevice(String why) {
        failed = false;   // the next mastership tries the device again
        if (dev == null) return;
        try {
            dev.disarm();
            log.info("self-fence: {} disarmed (magic close): {}", device, why);
        } catch (IOException e) {
            log.error("self-fence: {}; the device may reset this host", e.getMessage());
        } finally {
            dev = null;
            open = false;
        }
    }
}
