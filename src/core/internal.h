/*
 * core/internal.h: constants and helpers shared by the core's modules and by
 * nothing else (names are whaco__ or WHACO_ and may change at any time).
 */
#ifndef WHACO_CORE_INTERNAL_H
#define WHACO_CORE_INTERNAL_H

/* Strict C11 has no M_PI. */
#define WHACO_PI  3.14159265358979323846
#define WHACO_TAU 6.28318530717958647692

#define WHACO_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/*
 * One rule of a validation that reports its first failure: with `int rc`
 * (starting at WHACO_OK) and `const char *f` in scope, a failing cond sets
 * rc = code and f = the API field name, unless an earlier rule failed.
 */
#define WHACO_CHECK(cond, name, code)                                                              \
    if (rc == WHACO_OK && !(cond)) {                                                               \
        rc = (code);                                                                               \
        f = (name);                                                                                \
    }

#endif /* WHACO_CORE_INTERNAL_H */
