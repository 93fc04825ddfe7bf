/* Run-time analog noise: Philox4x32-10 blocks turned into standard normals, and the read-noise and ADC-noise
 * kernels that consume them (docs/device.md, "Run-time normals").
 *
 * Determinism: every function here is plain IEEE-754 double arithmetic (+, -, *, /, sqrt, round-to-nearest-even),
 * compiled with -ffp-contract=off, so no multiply-add is ever fused and the vectorised clones (AVX2, AVX-512) give the
 * same bits as the scalar one on any x86-64 or other IEEE machine. The transcendental functions are the project's own
 * polynomials below, not libm's, whose last bits differ between implementations. */
#include "xbar_kernel.h"
#include "xbar_convert.h"
#include <math.h>
#include <string.h>

#if defined(__x86_64__) && defined(__clang__)
#define XBAR_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define XBAR_CLONES
#endif

static inline __attribute__((always_inline)) void philox_block(uint32_t k0, uint32_t k1, uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3, uint32_t out[4]) {
    /* 32-bit words held in 64-bit lanes (upper halves zero): the multiplies are 32 x 32 -> 64 (vpmuludq) and no
     * lane is narrowed or widened between rounds. */
    uint64_t x0 = c0, x1 = c1, x2 = c2, x3 = c3;
    for (int round = 0; round < 10; round++) {
        uint64_t rk0 = (uint32_t)(k0 + (uint32_t)round * 0x9E3779B9u), rk1 = (uint32_t)(k1 + (uint32_t)round * 0xBB67AE85u);
        uint64_t p0 = 0xD2511F53ull * (x0 & 0xffffffffull);
        uint64_t p1 = 0xCD9E8D57ull * (x2 & 0xffffffffull);
        x0 = (p1 >> 32) ^ x1 ^ rk0;
        x1 = p1 & 0xffffffffull;
        x2 = (p0 >> 32) ^ x3 ^ rk1;
        x3 = p0 & 0xffffffffull;
    }
    out[0] = (uint32_t)x0; out[1] = (uint32_t)x1; out[2] = (uint32_t)x2; out[3] = (uint32_t)x3;
}

void xbar_philox(uint32_t k0, uint32_t k1, uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3, uint32_t out[4]) {
    philox_block(k0, k1, c0, c1, c2, c3, out);
}

/* ln(u) for u = (w + 0.5) 2^-32, w a 32-bit word: u in [2^-33, 1). u = m 2^e with m in [sqrt(1/2), sqrt(2)),
 * ln m = 2 atanh(s), s = (m - 1) / (m + 1), |s| < 0.1716, as the odd series 2 (s + s^3/3 + ... + s^19/19) (truncation
 * below 4e-17 relative); ln u = e ln2_hi + (e ln2_lo + ln m). Relative error below 1e-15 over the domain. */
static inline __attribute__((always_inline)) double xbar_log_unit(double u) {
    union { double d; uint64_t b; } cv = { .d = u };
    uint64_t bits = cv.b;
    int64_t e = (int64_t)((bits >> 52) & 0x7ff) - 1023;
    uint64_t mb = (bits & 0x000FFFFFFFFFFFFFull) | 0x3FF0000000000000ull;
    union { uint64_t b; double d; } cm = { .b = mb };
    double m = cm.d;
    int64_t big = m > 1.4142135623730951;
    m = big ? m * 0.5 : m;
    e += big;
    double s = (m - 1.0) / (m + 1.0);
    double z = s * s;
    double r = 1.0 / 19.0;
    r = 1.0 / 17.0 + z * r;
    r = 1.0 / 15.0 + z * r;
    r = 1.0 / 13.0 + z * r;
    r = 1.0 / 11.0 + z * r;
    r = 1.0 / 9.0 + z * r;
    r = 1.0 / 7.0 + z * r;
    r = 1.0 / 5.0 + z * r;
    r = 1.0 / 3.0 + z * r;
    double lnm = 2.0 * s + 2.0 * s * (z * r);
    double de = xbar_i64_to_f64(e); /* e in [-34, 0] */
    return de * 6.93147180369123816490e-01 + (de * 1.90821492927058770002e-10 + lnm);
}

/* sin and cos of 2 pi u for u in [0, 1): k = round(4u), x = 2 pi (u - k/4) in [-pi/4, pi/4] (u - k/4 is exact),
 * Taylor series to x^17 / x^18 (truncation below 1e-17), then the quadrant k mod 4. */
static inline __attribute__((always_inline)) void xbar_sincos_2pi(double u, double *sn, double *cs) {
    double kq = floor(4.0 * u + 0.5);
    double x = (u - kq * 0.25) * 6.28318530717958647692;
    double z = x * x;
    double ps = -1.0 / 355687428096000.0;              /* -1/17! */
    ps = 1.0 / 1307674368000.0 + z * ps;               /* 1/15! */
    ps = -1.0 / 6227020800.0 + z * ps;                 /* -1/13! */
    ps = 1.0 / 39916800.0 + z * ps;                    /* 1/11! */
    ps = -1.0 / 362880.0 + z * ps;                     /* -1/9! */
    ps = 1.0 / 5040.0 + z * ps;                        /* 1/7! */
    ps = -1.0 / 120.0 + z * ps;                        /* -1/5! */
    ps = 1.0 / 6.0 + z * ps;                           /* sin x = x - x z (1/6 - z/120 + z^2/5040 - ...) */
    double s = x - x * z * ps;
    double pc = 1.0 / 6402373705728000.0;              /* 1/18! */
    pc = -1.0 / 20922789888000.0 + z * pc;             /* -1/16! */
    pc = 1.0 / 87178291200.0 + z * pc;                 /* 1/14! */
    pc = -1.0 / 479001600.0 + z * pc;                  /* -1/12! */
    pc = 1.0 / 3628800.0 + z * pc;                     /* 1/10! */
    pc = -1.0 / 40320.0 + z * pc;                      /* -1/8! */
    pc = 1.0 / 720.0 + z * pc;                         /* 1/6! */
    pc = -1.0 / 24.0 + z * pc;                         /* -1/4! */
    double c = 1.0 - z * (0.5 + z * pc);
    int64_t q = xbar_f64_to_i64_rne(kq) & 3; /* kq is an integer in [0, 4] */
    double sq = q == 0 ? s : (q == 1 ? c : (q == 2 ? -s : -c));
    double cq = q == 0 ? c : (q == 1 ? -s : (q == 2 ? -c : s));
    *sn = sq;
    *cs = cq;
}

/* Box-Muller on four uniforms (u0, u1, u2, u3): z0 = r0 cos(2 pi u1), z1 = r0 sin(2 pi u1), r0 = sqrt(-2 ln u0);
 * the same with (u2, u3) for z2, z3. */
static inline __attribute__((always_inline)) void box_muller(double u0, double u1, double u2, double u3, double *out) {
    double r0 = sqrt(-2.0 * xbar_log_unit(u0)), r1 = sqrt(-2.0 * xbar_log_unit(u2));
    double s0, c0, s1, c1;
    xbar_sincos_2pi(u1, &s0, &c0);
    xbar_sincos_2pi(u3, &s1, &c1);
    out[0] = r0 * c0;
    out[1] = r0 * s0;
    out[2] = r1 * c1;
    out[3] = r1 * s1;
}

#define XBAR_NORMAL_CHUNK 64

XBAR_CLONES
void xbar_normals(uint32_t k0, uint32_t k1, uint32_t purpose, uint32_t a, uint32_t c, int64_t first_block, int64_t n_blocks,
                  double *out) {
    /* Structure of arrays in chunks, so both loops vectorise: Philox words first, then Box-Muller. */
    double u[4][XBAR_NORMAL_CHUNK];
    const double scale = 1.0 / 4294967296.0;
    for (int64_t lo = 0; lo < n_blocks; lo += XBAR_NORMAL_CHUNK) {
        int64_t m = n_blocks - lo < XBAR_NORMAL_CHUNK ? n_blocks - lo : XBAR_NORMAL_CHUNK;
        for (int64_t b = 0; b < m; b++) {
            uint32_t w[4];
            philox_block(k0, k1, purpose, a, (uint32_t)(first_block + lo + b), c, w);
            u[0][b] = (xbar_u32_to_f64(w[0]) + 0.5) * scale;
            u[1][b] = (xbar_u32_to_f64(w[1]) + 0.5) * scale;
            u[2][b] = (xbar_u32_to_f64(w[2]) + 0.5) * scale;
            u[3][b] = (xbar_u32_to_f64(w[3]) + 0.5) * scale;
        }
        for (int64_t b = 0; b < m; b++) {
            double z[4];
            box_muller(u[0][b], u[1][b], u[2][b], u[3][b], z);
            out[4 * (lo + b)] = z[0];
            out[4 * (lo + b) + 1] = z[1];
            out[4 * (lo + b) + 2] = z[2];
            out[4 * (lo + b) + 3] = z[3];
        }
    }
}

/* round_half_even(v) as an integer, v clamped to [-2^62, 2^62] and NaN taken as 0 (XbarCore `Fixed.roundReal`). */
static inline int64_t round_even_clamped(double v) {
    const double lim = 4611686018427387904.0;
    v = v != v ? 0.0 : (v < -lim ? -lim : (v > lim ? lim : v));
    return (int64_t)nearbyint(v);
}

XBAR_CLONES
void xbar_read_noise(int64_t *sums, const int64_t *var, int64_t n, int64_t col0, int64_t max_value, uint32_t k0, uint32_t k1,
                     uint32_t purpose, uint32_t op, uint32_t event, double *scratch) {
    if (n <= 0) return;
    int64_t b0 = col0 / 4, b1 = (col0 + n - 1) / 4;
    xbar_normals(k0, k1, purpose, op, event, b0, b1 - b0 + 1, scratch);
    const double *z = scratch + (col0 - 4 * b0);
    /* Below 2^51 the variance converts exactly without a cast, and |sqrt(var) z| < 2^26 * 6.8 rounds exactly by
     * xbar_f64_to_i64_rne (|z| <= sqrt(2 ln 2^33) < 6.8): the same bits as the general loop, vectorised. */
    int64_t big = 0;
    for (int64_t j = 0; j < n; j++) big |= var[j] >= ((int64_t)1 << 51);
    if (!big) {
        for (int64_t j = 0; j < n; j++) {
            int64_t vj = var[j] > 0 ? var[j] : 0;
            int64_t v = sums[j] + xbar_f64_to_i64_rne(sqrt(xbar_i64_to_f64(vj)) * z[j]);
            v = v < 0 ? 0 : (v > max_value ? max_value : v);
            sums[j] = var[j] > 0 ? v : sums[j];
        }
        return;
    }
    for (int64_t j = 0; j < n; j++) {
        if (var[j] <= 0) continue;
        int64_t v = sums[j] + round_even_clamped(sqrt((double)var[j]) * z[j]);
        sums[j] = v < 0 ? 0 : (v > max_value ? max_value : v);
    }
}

/* x = round_half_even(x gain + offset + sigma z), z = 0 when not noisy. When every x and every result is below 2^51
 * in magnitude (always, for ADC codes) the conversions take the vectorised exact forms; otherwise the casts. */
static inline __attribute__((always_inline)) void adc_affine(int64_t *restrict x, int64_t n, const double *restrict offset,
                                                            const double *restrict gain, double sigma,
                                                            const double *restrict z, const int noisy) {
    const int64_t lim = (int64_t)1 << 51;
    int64_t fits = 1;
    for (int64_t j = 0; j < n; j++) {
        double t = xbar_i64_to_f64(x[j]) * gain[j] + offset[j] + sigma * (noisy ? z[j] : 0.0);
        fits &= (x[j] < lim) & (x[j] > -lim) & (fabs(t) < XBAR_CONVERT_LIMIT);
    }
    if (fits) {
        for (int64_t j = 0; j < n; j++)
            x[j] = xbar_f64_to_i64_rne(xbar_i64_to_f64(x[j]) * gain[j] + offset[j] + sigma * (noisy ? z[j] : 0.0));
    } else {
        for (int64_t j = 0; j < n; j++) x[j] = round_even_clamped((double)x[j] * gain[j] + offset[j] + sigma * (noisy ? z[j] : 0.0));
    }
}

XBAR_CLONES
void xbar_adc_noise(int64_t *x, int64_t n, const double *offset, const double *gain, double sigma, uint32_t k0, uint32_t k1,
                    uint32_t purpose, uint32_t op, uint32_t event, double *scratch) {
    if (n <= 0) return;
    if (sigma > 0) {
        xbar_normals(k0, k1, purpose, op, event, 0, (n + 3) / 4, scratch);
        adc_affine(x, n, offset, gain, sigma, scratch, 1);
    } else {
        adc_affine(x, n, offset, gain, sigma, scratch, 0);
    }
}
