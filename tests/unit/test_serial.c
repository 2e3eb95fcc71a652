/*
 * test_serial.c: the portable byte format of whaco/serial.h.
 *
 * Every writer is checked against literal little-endian bytes (so the test
 * would catch a host-endian shortcut), every reader against the writer, and
 * doubles bit for bit, including the values a naive text or == comparison
 * would lose: -0.0, NaN payloads, subnormals and infinities.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <string.h>

#include "whaco/err.h"
#include "whaco/serial.h"

static uint64_t bits_of(double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    return b;
}

static double from_bits(uint64_t b)
{
    double v;
    memcpy(&v, &b, sizeof v);
    return v;
}

static void serial__u8_u32_u64_layout(void **state)
{
    (void)state;
    struct whaco_buf b = WHACO_BUF_INIT;
    whaco_buf_put_u8(&b, 0xab);
    whaco_buf_put_u32(&b, 0x01020304u);
    whaco_buf_put_u64(&b, 0x1122334455667788u);
    static const uint8_t want[] = {0xab, 0x04, 0x03, 0x02, 0x01, 0x88, 0x77,
                                   0x66, 0x55, 0x44, 0x33, 0x22, 0x11};
    assert_int_equal(b.len, sizeof want);
    assert_true(b.cap >= b.len);
    assert_memory_equal(b.data, want, sizeof want);
    whaco_buf_release(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
}

static void serial__i64_layout(void **state)
{
    (void)state;
    struct whaco_buf b = WHACO_BUF_INIT;
    whaco_buf_put_i64(&b, -1);
    whaco_buf_put_i64(&b, INT64_MIN);
    whaco_buf_put_i64(&b, -2);
    static const uint8_t want[] = {
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* -1 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, /* INT64_MIN */
        0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* -2 */
    };
    assert_int_equal(b.len, sizeof want);
    assert_memory_equal(b.data, want, sizeof want);
    whaco_buf_release(&b);
}

static void serial__f64_layout(void **state)
{
    (void)state;
    struct whaco_buf b = WHACO_BUF_INIT;
    whaco_buf_put_f64(&b, 1.0);  /* 0x3ff0000000000000 */
    whaco_buf_put_f64(&b, -0.0); /* 0x8000000000000000 */
    whaco_buf_put_f64(&b, -2.5); /* 0xc004000000000000 */
    static const uint8_t want[] = {
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf0, 0x3f, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0xc0,
    };
    assert_int_equal(b.len, sizeof want);
    assert_memory_equal(b.data, want, sizeof want);
    whaco_buf_release(&b);
}

static void serial__str_layout(void **state)
{
    (void)state;
    struct whaco_buf b = WHACO_BUF_INIT;
    whaco_buf_put_str(&b, "");
    whaco_buf_put_str(&b, "abc");
    static const uint8_t want[] = {0, 0, 0, 0, 3, 0, 0, 0, 'a', 'b', 'c'};
    assert_int_equal(b.len, sizeof want);
    assert_memory_equal(b.data, want, sizeof want);
    whaco_buf_release(&b);
}

static void serial__integer_round_trip(void **state)
{
    (void)state;
    static const uint8_t u8s[] = {0, 1, 0x7f, 0x80, 0xff};
    static const uint32_t u32s[] = {0, 1, 0xff, 0x100, 0x80000000u, 0xdeadbeefu, UINT32_MAX};
    static const uint64_t u64s[] = {
        0, 1, 0x100000000u, 0x8000000000000000u, 0x0123456789abcdefu, UINT64_MAX};
    static const int64_t i64s[] = {0, 1, -1, INT64_MIN, INT64_MAX, -1234567890123, 1700000000000};
    struct whaco_buf b = WHACO_BUF_INIT;
    for (size_t i = 0; i < sizeof u8s; i++)
        whaco_buf_put_u8(&b, u8s[i]);
    for (size_t i = 0; i < sizeof u32s / sizeof u32s[0]; i++)
        whaco_buf_put_u32(&b, u32s[i]);
    for (size_t i = 0; i < sizeof u64s / sizeof u64s[0]; i++)
        whaco_buf_put_u64(&b, u64s[i]);
    for (size_t i = 0; i < sizeof i64s / sizeof i64s[0]; i++)
        whaco_buf_put_i64(&b, i64s[i]);

    struct whaco_reader r;
    whaco_reader_init(&r, b.data, b.len);
    for (size_t i = 0; i < sizeof u8s; i++)
        assert_int_equal(whaco_reader_u8(&r), u8s[i]);
    for (size_t i = 0; i < sizeof u32s / sizeof u32s[0]; i++)
        assert_int_equal(whaco_reader_u32(&r), u32s[i]);
    for (size_t i = 0; i < sizeof u64s / sizeof u64s[0]; i++)
        assert_true(whaco_reader_u64(&r) == u64s[i]);
    for (size_t i = 0; i < sizeof i64s / sizeof i64s[0]; i++)
        assert_true(whaco_reader_i64(&r) == i64s[i]);
    assert_int_equal(r.err, WHACO_OK);
    assert_int_equal(r.off, b.len);
    whaco_buf_release(&b);
}

static void serial__f64_round_trip_is_bit_exact(void **state)
{
    (void)state;
    static const uint64_t patterns[] = {
        0x0000000000000000u, /* +0 */
        0x8000000000000000u, /* -0 */
        0x3ff0000000000000u, /* 1 */
        0x7ff0000000000000u, /* +inf */
        0xfff0000000000000u, /* -inf */
        0x7ff8000000000000u, /* quiet NaN */
        0x7ff8000000000123u, /* quiet NaN with a payload */
        0xfff80000deadbeefu, /* negative NaN with a payload */
        0x0000000000000001u, /* smallest subnormal */
        0x000fffffffffffffu, /* largest subnormal */
        0x8000000000000001u, /* negative subnormal */
        0x0010000000000000u, /* DBL_MIN */
        0x7fefffffffffffffu, /* DBL_MAX */
        0x3fb999999999999au, /* 0.1 */
    };
    enum { N = sizeof patterns / sizeof patterns[0] };
    struct whaco_buf b = WHACO_BUF_INIT;
    for (int i = 0; i < N; i++)
        whaco_buf_put_f64(&b, from_bits(patterns[i]));
    assert_int_equal(b.len, 8 * N);

    struct whaco_reader r;
    whaco_reader_init(&r, b.data, b.len);
    for (int i = 0; i < N; i++) {
        double v = whaco_reader_f64(&r);
        assert_true(bits_of(v) == patterns[i]);
    }
    assert_int_equal(r.err, WHACO_OK);

    /* The same values through the C constants, checked by meaning. */
    whaco_reader_init(&r, b.data, b.len);
    double zero = whaco_reader_f64(&r), negzero = whaco_reader_f64(&r);
    assert_true(zero == 0.0 && !signbit(zero));
    assert_true(negzero == 0.0 && signbit(negzero));
    assert_true(whaco_reader_f64(&r) == 1.0);
    assert_true(isinf(whaco_reader_f64(&r)));
    double neginf = whaco_reader_f64(&r);
    assert_true(isinf(neginf) && neginf < 0);
    assert_true(isnan(whaco_reader_f64(&r)));
    assert_true(isnan(whaco_reader_f64(&r)));
    assert_true(isnan(whaco_reader_f64(&r)));
    double sub = whaco_reader_f64(&r);
    assert_true(sub > 0.0 && sub < DBL_MIN && fpclassify(sub) == FP_SUBNORMAL);
    whaco_buf_release(&b);
}

static void serial__str_round_trip(void **state)
{
    (void)state;
    static const char *const strs[] = {"", "a", "customer-00042", "Zoë Müller, \"VIP\"",
                                       "Prime Buyers"};
    enum { N = sizeof strs / sizeof strs[0] };
    struct whaco_buf b = WHACO_BUF_INIT;
    for (int i = 0; i < N; i++)
        whaco_buf_put_str(&b, strs[i]);

    struct whaco_reader r;
    whaco_reader_init(&r, b.data, b.len);
    for (int i = 0; i < N; i++) {
        char out[64];
        memset(out, 'x', sizeof out);
        whaco_reader_str(&r, out, sizeof out);
        assert_int_equal(r.err, WHACO_OK);
        assert_string_equal(out, strs[i]);
    }
    assert_int_equal(r.off, b.len);
    whaco_buf_release(&b);
}

static void serial__patch(void **state)
{
    (void)state;
    struct whaco_buf b = WHACO_BUF_INIT;
    whaco_buf_put_u8(&b, 0xee);
    size_t off32 = b.len;
    whaco_buf_put_u32(&b, 0);
    size_t off64 = b.len;
    whaco_buf_put_u64(&b, 0);
    whaco_buf_put_u8(&b, 0xdd);
    whaco_buf_patch_u32(&b, off32, 0xa1b2c3d4u);
    whaco_buf_patch_u64(&b, off64, 0x0102030405060708u);
    static const uint8_t want[] = {0xee, 0xd4, 0xc3, 0xb2, 0xa1, 0x08, 0x07,
                                   0x06, 0x05, 0x04, 0x03, 0x02, 0x01, 0xdd};
    assert_int_equal(b.len, sizeof want);
    assert_memory_equal(b.data, want, sizeof want);

    struct whaco_reader r;
    whaco_reader_init(&r, b.data, b.len);
    assert_int_equal(whaco_reader_u8(&r), 0xee);
    assert_int_equal(whaco_reader_u32(&r), 0xa1b2c3d4u);
    assert_true(whaco_reader_u64(&r) == 0x0102030405060708u);
    assert_int_equal(whaco_reader_u8(&r), 0xdd);
    assert_int_equal(r.err, WHACO_OK);
    whaco_buf_release(&b);
}

static void serial__buffer_grows(void **state)
{
    (void)state;
    /* Far past the first allocation, in odd-sized pieces. */
    struct whaco_buf b = WHACO_BUF_INIT;
    uint8_t chunk[37];
    for (uint32_t i = 0; i < 1000; i++) {
        for (size_t j = 0; j < sizeof chunk; j++)
            chunk[j] = (uint8_t)(i * 31u + j);
        whaco_buf_put(&b, chunk, sizeof chunk);
        whaco_buf_put_u32(&b, i);
    }
    whaco_buf_put(&b, NULL, 0); /* an empty put is allowed */
    assert_int_equal(b.len, 1000 * (sizeof chunk + 4));
    assert_true(b.cap >= b.len);

    struct whaco_reader r;
    whaco_reader_init(&r, b.data, b.len);
    for (uint32_t i = 0; i < 1000; i++) {
        uint8_t got[sizeof chunk];
        assert_int_equal(whaco_reader_get(&r, got, sizeof got), WHACO_OK);
        for (size_t j = 0; j < sizeof chunk; j++)
            assert_int_equal(got[j], (uint8_t)(i * 31u + j));
        assert_int_equal(whaco_reader_u32(&r), i);
    }
    assert_int_equal(r.err, WHACO_OK);
    whaco_buf_release(&b);
    whaco_buf_release(&b); /* releasing an empty buffer is safe */
    assert_null(b.data);
}

static void serial__reader_truncated(void **state)
{
    (void)state;
    static const uint8_t bytes[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07};
    struct whaco_reader r;

    /* Each width, one byte short: zeros and a sticky error. */
    whaco_reader_init(&r, bytes, 3);
    assert_int_equal(whaco_reader_u32(&r), 0);
    assert_int_equal(r.err, WHACO_E_STATE_CORRUPT);
    /* One byte would fit, but the reader has failed: it stays failed. */
    assert_int_equal(whaco_reader_u8(&r), 0);
    assert_int_equal(r.err, WHACO_E_STATE_CORRUPT);

    whaco_reader_init(&r, bytes, sizeof bytes);
    assert_true(whaco_reader_u64(&r) == 0);
    assert_int_equal(r.err, WHACO_E_STATE_CORRUPT);
    assert_int_equal(whaco_reader_u32(&r), 0);
    assert_true(whaco_reader_i64(&r) == 0);
    double f = whaco_reader_f64(&r);
    assert_true(f == 0.0 && !signbit(f));

    whaco_reader_init(&r, bytes, 0);
    assert_int_equal(whaco_reader_u8(&r), 0);
    assert_int_equal(r.err, WHACO_E_STATE_CORRUPT);

    /* Reads up to the exact end succeed; the next one fails. */
    whaco_reader_init(&r, bytes, sizeof bytes);
    assert_int_equal(whaco_reader_u32(&r), 0x04030201u);
    assert_int_equal(whaco_reader_u8(&r), 0x05);
    assert_int_equal(whaco_reader_u8(&r), 0x06);
    assert_int_equal(whaco_reader_u8(&r), 0x07);
    assert_int_equal(r.err, WHACO_OK);
    uint8_t zero = 0;
    assert_int_equal(whaco_reader_get(&r, &zero, 0), WHACO_OK);
    assert_int_equal(whaco_reader_u8(&r), 0);
    assert_int_equal(r.err, WHACO_E_STATE_CORRUPT);

    /* whaco_reader_get zeroes its output on failure. */
    whaco_reader_init(&r, bytes, 2);
    uint8_t out[4];
    memset(out, 0xaa, sizeof out);
    assert_int_equal(whaco_reader_get(&r, out, sizeof out), WHACO_E_STATE_CORRUPT);
    static const uint8_t zeros[4] = {0};
    assert_memory_equal(out, zeros, sizeof out);
    memset(out, 0xaa, sizeof out);
    assert_int_equal(whaco_reader_get(&r, out, 1), WHACO_E_STATE_CORRUPT);
    assert_int_equal(out[0], 0);
}

static void serial__reader_fail_is_sticky(void **state)
{
    (void)state;
    static const uint8_t bytes[] = {1, 0, 0, 0};
    struct whaco_reader r;
    whaco_reader_init(&r, bytes, sizeof bytes);
    whaco_reader_fail(&r);
    assert_int_equal(r.err, WHACO_E_STATE_CORRUPT);
    assert_int_equal(whaco_reader_u32(&r), 0);
    assert_int_equal(r.err, WHACO_E_STATE_CORRUPT);
}

static void serial__reader_str_rejects_bad_strings(void **state)
{
    (void)state;
    struct whaco_buf b = WHACO_BUF_INIT;
    struct whaco_reader r;
    char out[5];

    /* 4 bytes fit in cap 5 (with the NUL); 5 bytes do not. */
    whaco_buf_put_str(&b, "abcd");
    whaco_reader_init(&r, b.data, b.len);
    whaco_reader_str(&r, out, sizeof out);
    assert_int_equal(r.err, WHACO_OK);
    assert_string_equal(out, "abcd");
    whaco_buf_release(&b);

    whaco_buf_put_str(&b, "abcde");
    whaco_reader_init(&r, b.data, b.len);
    memset(out, 'x', sizeof out);
    whaco_reader_str(&r, out, sizeof out);
    assert_int_equal(r.err, WHACO_E_STATE_CORRUPT);
    assert_string_equal(out, "");
    whaco_buf_release(&b);

    /* An embedded NUL. */
    whaco_buf_put_u32(&b, 3);
    whaco_buf_put(&b, "a\0b", 3);
    whaco_reader_init(&r, b.data, b.len);
    whaco_reader_str(&r, out, sizeof out);
    assert_int_equal(r.err, WHACO_E_STATE_CORRUPT);
    whaco_buf_release(&b);

    /* A length running past the end of the input. */
    whaco_buf_put_u32(&b, 4);
    whaco_buf_put(&b, "ab", 2);
    whaco_reader_init(&r, b.data, b.len);
    memset(out, 'x', sizeof out);
    whaco_reader_str(&r, out, sizeof out);
    assert_int_equal(r.err, WHACO_E_STATE_CORRUPT);
    assert_string_equal(out, "");
    whaco_buf_release(&b);

    /* A huge length. */
    whaco_buf_put_u32(&b, UINT32_MAX);
    whaco_reader_init(&r, b.data, b.len);
    memset(out, 'x', sizeof out);
    whaco_reader_str(&r, out, sizeof out);
    assert_int_equal(r.err, WHACO_E_STATE_CORRUPT);
    assert_string_equal(out, "");
    whaco_buf_release(&b);

    /* A truncated length prefix. */
    whaco_buf_put(&b, "\x02\x00", 2);
    whaco_reader_init(&r, b.data, b.len);
    memset(out, 'x', sizeof out);
    whaco_reader_str(&r, out, sizeof out);
    assert_int_equal(r.err, WHACO_E_STATE_CORRUPT);
    assert_string_equal(out, "");
    whaco_buf_release(&b);
}

static void serial__crc32(void **state)
{
    (void)state;
    /* The CRC-32/ISO-HDLC check value and two well-known vectors. */
    assert_int_equal(whaco_crc32("123456789", 9), 0xcbf43926u);
    assert_int_equal(whaco_crc32("", 0), 0x00000000u);
    const char *fox = "The quick brown fox jumps over the lazy dog";
    assert_int_equal(whaco_crc32(fox, strlen(fox)), 0x414fa339u);
    assert_int_equal(whaco_crc32("a", 1), 0xe8b7be43u);

    /* Every single-bit flip of a buffer changes the checksum. */
    uint8_t buf[32];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)(i * 7u + 3u);
    uint32_t base = whaco_crc32(buf, sizeof buf);
    for (size_t i = 0; i < sizeof buf; i++) {
        for (int k = 0; k < 8; k++) {
            buf[i] ^= (uint8_t)(1u << k);
            assert_int_not_equal(whaco_crc32(buf, sizeof buf), base);
            buf[i] ^= (uint8_t)(1u << k);
        }
    }
    assert_int_equal(whaco_crc32(buf, sizeof buf), base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(serial__u8_u32_u64_layout),
        cmocka_unit_test(serial__i64_layout),
        cmocka_unit_test(serial__f64_layout),
        cmocka_unit_test(serial__str_layout),
        cmocka_unit_test(serial__integer_round_trip),
        cmocka_unit_test(serial__f64_round_trip_is_bit_exact),
        cmocka_unit_test(serial__str_round_trip),
        cmocka_unit_test(serial__patch),
        cmocka_unit_test(serial__buffer_grows),
        cmocka_unit_test(serial__reader_truncated),
        cmocka_unit_test(serial__reader_fail_is_sticky),
        cmocka_unit_test(serial__reader_str_rejects_bad_strings),
        cmocka_unit_test(serial__crc32),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
