/*
 * whaco/utf8.h: UTF-8 validation, for names that go into JSON and onto the
 * dashboard as they are. Pure; thread-safe.
 */
#ifndef WHACO_UTF8_H
#define WHACO_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/*
 * true if p[0..len) is well-formed UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, nothing beyond U+10FFFF). NUL bytes are valid UTF-8; callers
 * that need C strings check for them separately.
 */
bool whaco_utf8_valid(const char *p, size_t len);

#endif /* WHACO_UTF8_H */
