/**
 * The local control socket behind {@code quorumd status}, {@code leader} and {@code step-down}: a
 * Unix domain socket (mode 0660, group {@code quorumd}) with a one-line request and a one-shot
 * reply. The server runs on its own thread and only reads a snapshot or posts a request to the
 * agent, so a slow or hostile client can never stall the election. JSON is written and read here
 * by hand, a few dozen lines, rather than pulling a JSON library into a small agent.
 */
package io.quorumd.control;
