/**
 * The command line ({@code run}, {@code check}, {@code status}, {@code leader}, {@code step-down},
 * {@code demo}) on picocli. Commands write through injected writers and return exit statuses, so
 * the whole CLI is tested in-process; only {@code Main} calls {@code System.exit}.
 */
package io.quorumd.cli;
