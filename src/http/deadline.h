/*
 * http/deadline.h: request deadlines -- the defence against slow clients
 * (slowloris) that libmicrohttpd's inactivity timeout alone does not give.
 *
 * The inactivity timeout (connection-timeout) closes a connection on which
 * nothing arrives for that long, but a client that sends one byte of its
 * headers or body every few seconds resets it forever. Here each
 * connection has a deadline while the server waits for a request on it:
 * from the moment it is accepted, or the moment the previous response
 * ended, the whole request (headers and body) must arrive within
 * request-timeout; otherwise a sweeper thread shuts the socket down
 * (shutdown(2)), libmicrohttpd sees the end of the stream in its own
 * thread and closes the connection. While a request is being answered
 * (the engine working, a response or an event stream being sent) there is
 * no deadline.
 *
 * Invariants: a tracked connection's socket is shut down only while the
 * connection is registered (under the registry's mutex), and libmicrohttpd
 * reports a connection closed before it closes its socket, so the sweeper
 * never touches a descriptor that was closed and reused. Thread-safe.
 */
#ifndef WHACO_HTTP_DEADLINE_H
#define WHACO_HTTP_DEADLINE_H

#include <stdint.h>

struct deadlines;
struct deadline_conn;

/*
 * Start the registry and its sweeper thread; timeout_ms is request-timeout
 * (0 = no deadlines: everything below does nothing). NULL if the thread
 * cannot be started.
 */
struct deadlines *deadlines_start(uint64_t timeout_ms);

/* Stop the sweeper and free the registry; every connection must be untracked. */
void deadlines_stop(struct deadlines *d);

/* Register an accepted connection on socket fd; its deadline starts now. */
struct deadline_conn *deadlines_track(struct deadlines *d, int fd);

/* The connection closed (before its socket is): forget and free it. NULL is ignored. */
void deadlines_untrack(struct deadlines *d, struct deadline_conn *c);

/* The request on c has arrived in full: no deadline until deadline_rearm. */
void deadline_received(struct deadline_conn *c);

/* The response on c has ended: the next request must arrive within the timeout. */
void deadline_rearm(struct deadlines *d, struct deadline_conn *c);

#endif /* WHACO_HTTP_DEADLINE_H */
