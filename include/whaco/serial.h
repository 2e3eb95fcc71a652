/*
 * whaco/serial.h: the portable byte format that whaco state is saved in.
 *
 * Everything is little-endian; doubles are stored as their IEEE-754 binary64
 * bit patterns, so a value read back is bit-for-bit the value written, and
 * two equal states always serialise to identical bytes. A saved state is
 *
 *     magic "WHACOST\n" (8 bytes) | u32 format version | u32 section count |
 *     sections: u32 tag, u64 payload length, payload |
 *     u32 CRC-32 (IEEE 802.3) of every preceding byte
 *
 * Each engine encodes its own section (tags WHACO_TAG_SEGMENT,
 * WHACO_TAG_TEAM); whaco_intel_save (whaco/intel.h) puts them together. A reader checks the
 * magic, the version, the checksum and every length before it trusts a byte,
 * so truncated or corrupted input gives WHACO_E_STATE_CORRUPT, never a crash.
 *
 * struct whaco_buf grows on the heap (whaco/alloc.h). A growth that runs out
 * of memory does not abort and is not reported by each append: like a
 * stdio stream's error flag, the buffer's sticky `failed` flag is set, every
 * later append is skipped, and the code that built the buffer checks the
 * flag once at the end (whaco_buf_error) -- so encoders stay straight-line
 * code. struct whaco_reader only borrows its bytes. Neither is thread-safe;
 * separate instances are independent.
 */
#ifndef WHACO_SERIAL_H
#define WHACO_SERIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WHACO_STATE_MAGIC   "WHACOST\n"
#define WHACO_STATE_VERSION 1u

#define WHACO_TAG_SEGMENT 0x4d474553u /* "SEGM" */
#define WHACO_TAG_TEAM    0x4d414554u /* "TEAM" */

/*
 * A growable byte buffer. Initialise with WHACO_BUF_INIT or zeroing. Once
 * `failed` is set, data[0..len) holds what was appended before the failure
 * and is not a complete encoding: check whaco_buf_error() before using it.
 */
struct whaco_buf {
    uint8_t *data; /* owned; NULL while empty */
    size_t len;    /* bytes written */
    size_t cap;    /* bytes allocated */
    bool failed;   /* sticky: an append ran out of memory; later appends are skipped */
};
#define WHACO_BUF_INIT                                                                             \
    {                                                                                              \
        NULL, 0, 0, false                                                                          \
    }

/* Free the buffer's memory and reset it to empty (failed cleared). Safe on an empty buffer. */
void whaco_buf_release(struct whaco_buf *b);

/* Empty the buffer but keep its memory for reuse; clears `failed`. */
void whaco_buf_clear(struct whaco_buf *b);

/* WHACO_OK, or WHACO_E_NOMEM if an append since the last clear/release failed. */
int whaco_buf_error(const struct whaco_buf *b);

/*
 * Appenders: grow the buffer as needed. On out-of-memory they set `failed`
 * and append nothing (the bytes already there are kept); while `failed` is
 * set they do nothing.
 */
void whaco_buf_put(struct whaco_buf *b, const void *p, size_t n);
void whaco_buf_put_u8(struct whaco_buf *b, uint8_t v);
void whaco_buf_put_u32(struct whaco_buf *b, uint32_t v);
void whaco_buf_put_u64(struct whaco_buf *b, uint64_t v);
void whaco_buf_put_i64(struct whaco_buf *b, int64_t v);
void whaco_buf_put_f64(struct whaco_buf *b, double v);
/* A string as u32 length + bytes (no NUL). */
void whaco_buf_put_str(struct whaco_buf *b, const char *s);

/*
 * Write a u32 at an earlier offset (used to patch a length or count once
 * it is known). off + 4 must not exceed b->len; nothing is written while
 * the buffer has failed.
 */
void whaco_buf_patch_u32(struct whaco_buf *b, size_t off, uint32_t v);
void whaco_buf_patch_u64(struct whaco_buf *b, size_t off, uint64_t v);

/*
 * A bounds-checked reader over borrowed bytes. After the first failed read
 * `err` is WHACO_E_STATE_CORRUPT, every later read fails too and returns
 * zeros, so a decoder may read a whole record and check `err` once.
 */
struct whaco_reader {
    const uint8_t *p; /* borrowed */
    size_t len;
    size_t off;
    int err; /* WHACO_OK or WHACO_E_STATE_CORRUPT */
};

void whaco_reader_init(struct whaco_reader *r, const void *p, size_t len);
int whaco_reader_get(struct whaco_reader *r, void *out, size_t n);
uint8_t whaco_reader_u8(struct whaco_reader *r);
uint32_t whaco_reader_u32(struct whaco_reader *r);
uint64_t whaco_reader_u64(struct whaco_reader *r);
int64_t whaco_reader_i64(struct whaco_reader *r);
double whaco_reader_f64(struct whaco_reader *r);
/*
 * Read a string written by whaco_buf_put_str into out[cap] and NUL-terminate
 * it. Fails (corrupt) if it does not fit in cap - 1 bytes or holds a NUL.
 */
void whaco_reader_str(struct whaco_reader *r, char *out, size_t cap);

/* Mark the reader failed (a decoder found an impossible value). */
void whaco_reader_fail(struct whaco_reader *r);

/*
 * Building a whole saved state (the layout at the top of this file):
 *
 *     struct whaco_state_writer w;
 *     whaco_state_begin(&w, &buf);
 *     size_t s = whaco_state_section_begin(&w, WHACO_TAG_SEGMENT);
 *     ...encode the payload into buf...
 *     whaco_state_section_end(&w, s);
 *     ...more sections...
 *     whaco_state_finish(&w);   (patches the count, appends the CRC)
 *     if (whaco_buf_error(&buf)) ...out of memory: release buf...
 *
 * Every step is a no-op once buf has failed, so the check at the end is
 * the only one needed.
 */
struct whaco_state_writer {
    struct whaco_buf *buf; /* borrowed */
    size_t start;          /* offset of the magic in buf */
    uint32_t sections;     /* sections written so far */
};

void whaco_state_begin(struct whaco_state_writer *w, struct whaco_buf *b);
size_t whaco_state_section_begin(struct whaco_state_writer *w, uint32_t tag);
void whaco_state_section_end(struct whaco_state_writer *w, size_t section);
void whaco_state_finish(struct whaco_state_writer *w);

/*
 * Open a saved state: check the magic, the version and the CRC, and leave
 * *r positioned at the first section with *sections set. Returns WHACO_OK,
 * WHACO_E_STATE_VERSION (a format this build cannot read) or
 * WHACO_E_STATE_CORRUPT. The bytes are borrowed for the reader's lifetime.
 */
int whaco_state_open(struct whaco_reader *r, const void *p, size_t len, uint32_t *sections);

/*
 * Read the next section header from r: *tag, and *payload set up as a reader
 * over exactly its payload (r moves past it). Returns WHACO_OK or
 * WHACO_E_STATE_CORRUPT.
 */
int whaco_state_section(struct whaco_reader *r, uint32_t *tag, struct whaco_reader *payload);

/* CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320) of n bytes. */
uint32_t whaco_crc32(const void *p, size_t n);

#endif /* WHACO_SERIAL_H */
