package io.quorumd;

/** Entry point: only {@code System.exit(execute(args))}; everything else is testable in-process. */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        System.exit(0);
    }
}
