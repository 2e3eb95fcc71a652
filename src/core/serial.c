/*
 * serial.c: the little-endian byte buffer, the bounds-checked reader and
 * CRC-32 of whaco/serial.h. Bytes are assembled one at a time, so the
 * format does not depend on the host's endianness or alignment.
 */
#include <string.h>

#include "whaco/alloc.h"
#include "whaco/err.h"
#include "whaco/serial.h"
#include "banned.h"

void whaco_buf_release(struct whaco_buf *b)
{
    whaco_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = false;
}

void whaco_buf_clear(struct whaco_buf *b)
{
    b->len = 0;
    b->failed = false;
}

int whaco_buf_error(const struct whaco_buf *b)
{
    return b->failed ? WHACO_E_NOMEM : WHACO_OK;
}

/* Make room for n more bytes; false (and `failed` set) if memory ran out. */
static bool buf_reserve(struct whaco_buf *b, size_t n)
{
    if (b->failed)
        return false;
    if (b->cap - b->len >= n)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < n) {
        if (cap > SIZE_MAX / 2) {
            b->failed = true;
            return false;
        }
        cap *= 2;
    }
    uint8_t *data = whaco_reallocarray(b->data, cap, 1);
    if (!data) {
        b->failed = true;
        return false;
    }
    b->data = data;
    b->cap = cap;
    return true;
}

void whaco_buf_put(struct whaco_buf *b, const void *p, size_t n)
{
    if (n == 0 || !buf_reserve(b, n))
        return;
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void whaco_buf_put_u8(struct whaco_buf *b, uint8_t v)
{
    whaco_buf_put(b, &v, 1);
}

static void store_le(uint8_t *out, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        out[i] = (uint8_t)(v >> (8 * i));
}

void whaco_buf_put_u32(struct whaco_buf *b, uint32_t v)
{
    uint8_t x[4];
    store_le(x, v, 4);
    whaco_buf_put(b, x, 4);
}

void whaco_buf_put_u64(struct whaco_buf *b, uint64_t v)
{
    uint8_t x[8];
    store_le(x, v, 8);
    whaco_buf_put(b, x, 8);
}

void whaco_buf_put_i64(struct whaco_buf *b, int64_t v)
{
    whaco_buf_put_u64(b, (uint64_t)v);
}

void whaco_buf_put_f64(struct whaco_buf *b, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    whaco_buf_put_u64(b, bits);
}

void whaco_buf_put_str(struct whaco_buf *b, const char *s)
{
    size_t n = strlen(s);
    whaco_buf_put_u32(b, (uint32_t)n);
    whaco_buf_put(b, s, n);
}

void whaco_buf_patch_u32(struct whaco_buf *b, size_t off, uint32_t v)
{
    if (!b->failed)
        store_le(b->data + off, v, 4);
}

void whaco_buf_patch_u64(struct whaco_buf *b, size_t off, uint64_t v)
{
    if (!b->failed)
        store_le(b->data + off, v, 8);
}

void whaco_reader_init(struct whaco_reader *r, const void *p, size_t len)
{
    r->p = p;
    r->len = len;
    r->off = 0;
    r->err = WHACO_OK;
}

void whaco_reader_fail(struct whaco_reader *r)
{
    r->err = WHACO_E_STATE_CORRUPT;
}

int whaco_reader_get(struct whaco_reader *r, void *out, size_t n)
{
    if (r->err || r->len - r->off < n) {
        r->err = WHACO_E_STATE_CORRUPT;
        memset(out, 0, n);
        return r->err;
    }
    if (n)
        memcpy(out, r->p + r->off, n);
    r->off += n;
    return WHACO_OK;
}

static uint64_t load_le(struct whaco_reader *r, int n)
{
    uint8_t x[8];
    uint64_t v = 0;
    whaco_reader_get(r, x, (size_t)n);
    for (int i = n - 1; i >= 0; i--)
        v = (v << 8) | x[i];
    return v;
}

uint8_t whaco_reader_u8(struct whaco_reader *r)
{
    return (uint8_t)load_le(r, 1);
}

uint32_t whaco_reader_u32(struct whaco_reader *r)
{
    return (uint32_t)load_le(r, 4);
}

uint64_t whaco_reader_u64(struct whaco_reader *r)
{
    return load_le(r, 8);
}

int64_t whaco_reader_i64(struct whaco_reader *r)
{
    return (int64_t)load_le(r, 8);
}

double whaco_reader_f64(struct whaco_reader *r)
{
    uint64_t bits = load_le(r, 8);
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

void whaco_reader_str(struct whaco_reader *r, char *out, size_t cap)
{
    uint32_t n = whaco_reader_u32(r);
    if (r->err || n >= cap) {
        whaco_reader_fail(r);
        out[0] = '\0';
        return;
    }
    whaco_reader_get(r, out, n);
    out[r->err ? 0 : n] = '\0';
    if (memchr(out, '\0', n))
        whaco_reader_fail(r);
}

uint32_t whaco_crc32(const void *p, size_t n)
{
    /* Bitwise CRC-32: states are tens of kilobytes, saved every few minutes,
     * so a table would buy nothing worth its 1 KiB. */
    const uint8_t *s = p;
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        crc ^= s[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

/*==== Whole saved states ==================================================*/

void whaco_state_begin(struct whaco_state_writer *w, struct whaco_buf *b)
{
    w->buf = b;
    w->start = b->len;
    w->sections = 0;
    whaco_buf_put(b, WHACO_STATE_MAGIC, 8);
    whaco_buf_put_u32(b, WHACO_STATE_VERSION);
    whaco_buf_put_u32(b, 0); /* section count, patched by finish */
}

size_t whaco_state_section_begin(struct whaco_state_writer *w, uint32_t tag)
{
    whaco_buf_put_u32(w->buf, tag);
    size_t at = w->buf->len;
    whaco_buf_put_u64(w->buf, 0); /* payload length, patched by section_end */
    return at;
}

void whaco_state_section_end(struct whaco_state_writer *w, size_t section)
{
    if (w->buf->failed)
        return;
    whaco_buf_patch_u64(w->buf, section, (uint64_t)(w->buf->len - section - 8));
    w->sections++;
}

void whaco_state_finish(struct whaco_state_writer *w)
{
    if (w->buf->failed)
        return;
    whaco_buf_patch_u32(w->buf, w->start + 12, w->sections);
    whaco_buf_put_u32(w->buf, whaco_crc32(w->buf->data + w->start, w->buf->len - w->start));
}

int whaco_state_open(struct whaco_reader *r, const void *p, size_t len, uint32_t *sections)
{
    const uint8_t *bytes = p;
    char magic[8];
    if (len < 8 + 4 + 4 + 4)
        return WHACO_E_STATE_CORRUPT;
    whaco_reader_init(r, bytes, len - 4);
    whaco_reader_get(r, magic, sizeof magic);
    if (memcmp(magic, WHACO_STATE_MAGIC, 8) != 0)
        return r->err = WHACO_E_STATE_CORRUPT;
    uint32_t version = whaco_reader_u32(r);
    if (version != WHACO_STATE_VERSION)
        return r->err = WHACO_E_STATE_VERSION;
    struct whaco_reader tail;
    whaco_reader_init(&tail, bytes + len - 4, 4);
    if (whaco_reader_u32(&tail) != whaco_crc32(bytes, len - 4))
        return r->err = WHACO_E_STATE_CORRUPT;
    *sections = whaco_reader_u32(r);
    return r->err;
}

int whaco_state_section(struct whaco_reader *r, uint32_t *tag, struct whaco_reader *payload)
{
    *tag = whaco_reader_u32(r);
    uint64_t n = whaco_reader_u64(r);
    if (r->err || n > r->len - r->off) {
        whaco_reader_fail(r);
        return WHACO_E_STATE_CORRUPT;
    }
    whaco_reader_init(payload, r->p + r->off, (size_t)n);
    r->off += (size_t)n;
    return WHACO_OK;
}
