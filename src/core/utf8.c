/*
 * utf8.c: the validator of whaco/utf8.h, a direct reading of RFC 3629's
 * byte ranges: the lead byte gives the length and the smallest code point
 * that length may encode (so overlong forms fail), continuation bytes are
 * 10xxxxxx, and surrogates and values past U+10FFFF are refused; and the
 * control-character test of whaco_text_printable.
 */
#include "whaco/utf8.h"
#include "banned.h"

bool whaco_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        unsigned c = p[i], cp, min;
        size_t more;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            more = 1;
            min = 0x80;
        } else if (c >= 0xe0 && c <= 0xef) {
            more = 2;
            min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
            more = 3;
            min = 0x10000;
        } else {
            return false;
        }
        if (len - i <= more)
            return false;
        cp = c & (0x3fu >> more);
        for (size_t k = 1; k <= more; k++) {
            unsigned d = p[i + k];
            if ((d & 0xc0u) != 0x80u)
                return false;
            cp = (cp << 6) | (d & 0x3fu);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += more + 1;
    }
    return true;
}

bool whaco_text_printable(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c < 0x20 || c == 0x7f)
            return false;
    }
    return true;
}
