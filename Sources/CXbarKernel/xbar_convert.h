/* Exact conversions between int64 and double for magnitudes below 2^51, written with one integer add and one
 * double add or subtract, so they vectorise on every x86-64 level: AVX2 has no int64 <-> double instruction (those
 * are AVX-512DQ), and a loop that converts with a cast is split into scalar conversions there. The results are the
 * casts' results, bit for bit, inside the stated ranges; callers check the range (or know it) and keep the cast
 * for the rest.
 *
 * The trick: M = 2^52 + 2^51 has exponent 52, so every double in [2^52, 2^53) is an integer and spaced by one, and
 * its 52-bit mantissa field holds (value - 2^52). For |v| < 2^51, M + v lies in that range: its bits are
 * bits(M) + v, and subtracting M is exact. Adding M to a double x with |x| < 2^51 rounds x to an integer by the
 * current rounding mode (round-to-nearest-even, as nearbyint does). */
#ifndef XBAR_CONVERT_H
#define XBAR_CONVERT_H
#include <stdint.h>
#include <string.h>

#define XBAR_CONVERT_LIMIT 2251799813685248.0 /* 2^51 */
static const double xbar_magic_d = 6755399441055744.0; /* 2^52 + 2^51 */
static const int64_t xbar_magic_i = 0x4338000000000000LL;

/* (double)v, for |v| < 2^51. */
static inline __attribute__((always_inline)) double xbar_i64_to_f64(int64_t v) {
    int64_t b = v + xbar_magic_i;
    double d;
    memcpy(&d, &b, sizeof d);
    return d - xbar_magic_d;
}

/* (int64_t)nearbyint(x) under round-to-nearest-even, for |x| < 2^51; (int64_t)x when x is already an integer. */
static inline __attribute__((always_inline)) int64_t xbar_f64_to_i64_rne(double x) {
    double d = x + xbar_magic_d;
    int64_t b;
    memcpy(&b, &d, sizeof b);
    return b - xbar_magic_i;
}

/* (double)w for any 32-bit unsigned word, through the signed conversion every level has. */
static inline __attribute__((always_inline)) double xbar_u32_to_f64(uint32_t w) {
    return (double)(int32_t)(w ^ 0x80000000u) + 2147483648.0;
}
#endif
