package io.quorumd.config;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;

/**
 * The {@code self_fence} section (SPEC "Operations"): a hardware or kernel watchdog device that
 * the master pets only while its lease holds, so that a host frozen or starved past its lease
 * resets.
 *
 * @param mode   off (never touch the device), auto (use it when present), required (no campaign without it)
 * @param device the watchdog device, {@code /dev/watchdog} by default
 */
public record SelfFenceConfig(Mode mode, Path device) {
    public static final Path DEFAULT_DEVICE = Path.of("/dev/watchdog");

    public enum Mode {
        OFF, AUTO, REQUIRED;

        public String yamlName() {
            return name().toLowerCase(Locale.ROOT);
        }

        static Mode parse(String s) {
            for (Mode m : values()) if (m.yamlName().equals(s)) return m;
            throw new IllegalArgumentException("must be off, auto or required");
        }
    }

    public SelfFenceConfig {
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(device, "device");
    }

    public static SelfFenceConfig off() {
        return new SelfFenceConfig(Mode.OFF, DEFAULT_DEVICE);
    }
}
