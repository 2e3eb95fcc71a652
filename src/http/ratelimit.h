/*
 * http/ratelimit.h: the failed-authentication limit per client address.
 *
 * A client address that presents `limit` bad credentials (a bearer token
 * that is not valid, or an Authorization header that is not a bearer token)
 * within `window_ms` of its first failure is locked out for `window_ms`:
 * while locked out, every request of that address to an endpoint that
 * checks tokens is refused (429) before its token is looked at -- even a
 * valid token -- so guessing gets no answer at all. A missing token is not
 * a guess and does not count. Successes do not reset the count (an attacker
 * holding any valid token could otherwise interleave it to keep guessing).
 *
 * Invariants: the table holds at most `capacity` addresses, fixed at
 * creation (no allocation after it), so any number of attacking addresses
 * cannot grow memory; when it is full, an address that is not locked out
 * and failed least recently is forgotten first, else the lockout that ends
 * soonest. IPv4-mapped IPv6 addresses count as their IPv4 address. Time is
 * an argument (monotonic milliseconds), so the table is testable without a
 * clock. Every function is thread-safe.
 */
#ifndef WHACO_HTTP_RATELIMIT_H
#define WHACO_HTTP_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define AUTHLIMIT_CAPACITY 1024 /* addresses remembered by the server's limiter */

/* A client address as the key of the table: family (4 or 6) and bytes. */
struct client_addr {
    uint8_t family; /* 4 or 6; 0 = unknown (never limited) */
    uint8_t bytes[16];
};

/*
 * The client address of sa (AF_INET or AF_INET6; a v4-mapped v6 address
 * becomes v4). Returns 0, or -1 (out.family = 0) for any other family or a
 * NULL sa.
 */
int client_addr_from_sockaddr(const struct sockaddr *sa, struct client_addr *out);

/* The address as text ("192.0.2.7", "2001:db8::1") into buf; "unknown" if family 0. */
void client_addr_format(const struct client_addr *a, char *buf, size_t len);

struct authlimit;

/*
 * A limiter allowing `limit` failures per `window_ms` per address, for up
 * to `capacity` addresses. limit 0 disables it (every call then says "not
 * locked" and records nothing). Never NULL (allocation failure aborts).
 */
struct authlimit *authlimit_new(unsigned limit, uint64_t window_ms, size_t capacity);
void authlimit_free(struct authlimit *l);

/*
 * Seconds (rounded up, at least 1) until address a may try again, or 0 if
 * it is not locked out at now_ms.
 */
unsigned authlimit_locked(struct authlimit *l, const struct client_addr *a, uint64_t now_ms);

/*
 * Record one failed authentication by a at now_ms. Returns true if this
 * failure locked the address out (the caller logs it once), else false.
 */
bool authlimit_fail(struct authlimit *l, const struct client_addr *a, uint64_t now_ms);

/* Addresses currently in the table (for tests: never above capacity). */
size_t authlimit_size(struct authlimit *l);

#endif /* WHACO_HTTP_RATELIMIT_H */
