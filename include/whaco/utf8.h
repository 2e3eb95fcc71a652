/*
 * whaco/utf8.h: the checks of text that goes into JSON, logs and onto the
 * dashboard as it is: UTF-8 validity, and no control characters. Pure;
 * thread-safe.
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

/*
 * true if p[0..len) holds no control character: no C0 byte (0x00..0x1f,
 * NUL included) and no DEL (0x7f). Bytes >= 0x80 pass (whaco_utf8_valid
 * judges them). The one definition of "printable" for ids, names and
 * deal ids.
 */
bool whaco_text_printable(const char *p, size_t len);

#endif /* WHACO_UTF8_H */
