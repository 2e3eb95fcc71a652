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

#endif /* WHACO_CORE_INTERNAL_H */
