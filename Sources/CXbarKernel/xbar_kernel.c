#include "xbar_kernel.h"
#include <math.h>
#include <omp.h>
#include <string.h>

/* Work below this many cell reads runs on one thread: forking costs more than it saves. */
#define XBAR_PARALLEL_MIN_WORK 65536

/* Functions marked XBAR_CLONES are compiled for AVX-512, AVX2 and baseline x86-64 and chosen at load time; integer
 * results are the same on every clone. */
#if defined(__x86_64__) && defined(__clang__)
#define XBAR_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define XBAR_CLONES
#endif

/* ---- Fixed-point rules (XbarCore/FixedPoint.swift `Fixed`, docs/ir.md "Values and types") ---- */

static inline int64_t floor_div_exact(int64_t n, int64_t d) {
    int64_t q = n / d;
    return (n % d != 0 && n < 0) ? q - 1 : q;
}

/* floor(n / d) for d > 0 and its remainder in [0, d). Below 2^52 a double quotient is within one of the true
 * floor and is corrected exactly; beyond it the integer division is used. */
static inline int64_t floor_div_rem(int64_t n, int64_t d, int64_t *rem) {
    int64_t q;
    if (n > -(1LL << 52) && n < (1LL << 52) && d < (1LL << 52)) {
        q = (int64_t)floor((double)n / (double)d);
        int64_t r = n - q * d;
        if (r < 0) { q -= 1; r += d; } else if (r >= d) { q += 1; r -= d; }
        *rem = r;
        return q;
    }
    q = floor_div_exact(n, d);
    *rem = n - q * d;
    return q;
}

static inline int64_t xdivide(int64_t n, int64_t d, int32_t rnd) {
    int64_t rem;
    int64_t q;
    switch (rnd) {
    case XBAR_FLOOR: return floor_div_rem(n, d, &rem);
    case XBAR_TRUNC: return n / d;
    case XBAR_HALF_UP:
        q = floor_div_rem(n, d, &rem);
        return 2 * rem >= d ? q + 1 : q;
    default:
        q = floor_div_rem(n, d, &rem);
        if (2 * rem > d) return q + 1;
        if (2 * rem < d) return q;
        return (q & 1) == 0 ? q : q + 1;
    }
}

/* x / 2^s rounded (0 <= s <= 62). */
static inline int64_t xshift(int64_t x, int32_t s, int32_t rnd) {
    if (s == 0) return x;
    int64_t q = x >> s; /* arithmetic shift: floor */
    int64_t rem = x - (int64_t)((uint64_t)q << s);
    int64_t half = (int64_t)1 << (s - 1);
    switch (rnd) {
    case XBAR_FLOOR: return q;
    case XBAR_TRUNC: return (x < 0 && rem != 0) ? q + 1 : q;
    case XBAR_HALF_UP: return rem >= half ? q + 1 : q;
    default:
        if (rem > half) return q + 1;
        if (rem < half) return q;
        return (q & 1) == 0 ? q : q + 1;
    }
}

static inline int64_t xfit(int64_t v, xbar_fit_t t) {
    if (v >= t.lo && v <= t.hi) return v;
    if (!t.wrap) return v < t.lo ? t.lo : t.hi;
    uint64_t mask = ((uint64_t)1 << t.bits) - 1;
    uint64_t m = (uint64_t)v & mask;
    if (t.is_signed && ((m >> (t.bits - 1)) & 1)) return (int64_t)(m | ~mask);
    return (int64_t)m;
}

/* ---- Crossbar reads ---- */

void xbar_read_columns(const int32_t *codes, int64_t n_cols_total, const int32_t *rows, int64_t n_rows,
                       int64_t col0, int64_t n_out, int64_t *out, int threads) {
    memset(out, 0, (size_t)n_out * sizeof(int64_t));
    if (n_rows == 0 || n_out == 0) return;
    int64_t work = n_rows * n_out;
    int nt = threads > 0 ? threads : omp_get_max_threads();
    if (nt > 1 && work >= XBAR_PARALLEL_MIN_WORK) {
        /* Split columns into contiguous blocks; each thread sums all driven rows of its block. */
        #pragma omp parallel for num_threads(nt) schedule(static)
        for (int64_t b = 0; b < nt; b++) {
            int64_t lo = n_out * b / nt, hi = n_out * (b + 1) / nt;
            for (int64_t k = 0; k < n_rows; k++) {
                const int32_t *row = codes + (int64_t)rows[k] * n_cols_total + col0;
                for (int64_t j = lo; j < hi; j++) out[j] += row[j];
            }
        }
    } else {
        for (int64_t k = 0; k < n_rows; k++) {
            const int32_t *row = codes + (int64_t)rows[k] * n_cols_total + col0;
            for (int64_t j = 0; j < n_out; j++) out[j] += row[j];
        }
    }
}

void xbar_read_columns2(const int32_t *codes, const int32_t *var, int64_t n_cols_total, const int32_t *rows, int64_t n_rows,
                        int64_t col0, int64_t n_out, int64_t *out, int64_t *var_out, int threads) {
    memset(out, 0, (size_t)n_out * sizeof(int64_t));
    memset(var_out, 0, (size_t)n_out * sizeof(int64_t));
    if (n_rows == 0 || n_out == 0) return;
    int64_t work = n_rows * n_out;
    int nt = threads > 0 ? threads : omp_get_max_threads();
    if (nt < 1 || work < XBAR_PARALLEL_MIN_WORK) nt = 1;
    #pragma omp parallel for num_threads(nt) schedule(static) if(nt > 1)
    for (int64_t b = 0; b < nt; b++) {
        int64_t lo = n_out * b / nt, hi = n_out * (b + 1) / nt;
        for (int64_t k = 0; k < n_rows; k++) {
            int64_t base = (int64_t)rows[k] * n_cols_total + col0;
            const int32_t *row = codes + base, *vr = var + base;
            for (int64_t j = lo; j < hi; j++) { out[j] += row[j]; var_out[j] += vr[j]; }
        }
    }
}

XBAR_CLONES
void xbar_read_csr(const int64_t *row_ptr, const int32_t *col, const int32_t *val, const int32_t *val2,
                   const int32_t *rows, int64_t n_rows, int64_t n_out, int64_t base, int64_t base2, int64_t *out, int64_t *out2) {
    for (int64_t j = 0; j < n_out; j++) out[j] = base;
    if (val2) for (int64_t j = 0; j < n_out; j++) out2[j] = base2;
    for (int64_t k = 0; k < n_rows; k++) {
        int64_t lo = row_ptr[rows[k]], hi = row_ptr[rows[k] + 1];
        if (val2) {
            for (int64_t e = lo; e < hi; e++) { out[col[e]] += val[e]; out2[col[e]] += val2[e]; }
        } else {
            for (int64_t e = lo; e < hi; e++) out[col[e]] += val[e];
        }
    }
}

#define XBAR_BLOCK 256
XBAR_CLONES
void xbar_read_dense16(const int16_t *w, const int16_t *w2, const int32_t *rows, int64_t n_rows, int64_t n_out,
                       int64_t base, int64_t base2, int64_t *out, int64_t *out2) {
    int32_t acc[XBAR_BLOCK], acc2[XBAR_BLOCK];
    for (int64_t lo = 0; lo < n_out; lo += XBAR_BLOCK) {
        int64_t m = n_out - lo < XBAR_BLOCK ? n_out - lo : XBAR_BLOCK;
        for (int64_t j = 0; j < m; j++) acc[j] = 0;
        if (w2) for (int64_t j = 0; j < m; j++) acc2[j] = 0;
        for (int64_t k = 0; k < n_rows; k++) {
            const int16_t *row = w + (int64_t)rows[k] * n_out + lo;
            for (int64_t j = 0; j < m; j++) acc[j] += row[j];
            if (w2) {
                const int16_t *r2 = w2 + (int64_t)rows[k] * n_out + lo;
                for (int64_t j = 0; j < m; j++) acc2[j] += r2[j];
            }
        }
        for (int64_t j = 0; j < m; j++) out[lo + j] = base + acc[j];
        if (w2) for (int64_t j = 0; j < m; j++) out2[lo + j] = base2 + acc2[j];
    }
}

int64_t xbar_gather_rows(const int32_t *active, int64_t n, int32_t s0, int32_t count, int32_t row0, int32_t *rows, int64_t len) {
    int32_t hi = s0 + count;
    for (int64_t i = 0; i < n; i++) {
        int32_t a = active[i];
        if (a >= s0 && a < hi) rows[len++] = row0 + a - s0;
    }
    return len;
}

/* ---- Digital ops ---- */

/* floor(n / d) for d > 0 from a double reciprocal: for |n| < 2^50 the product is within one of the true quotient,
 * and one integer correction makes it exact; then the rounding rule on the exact remainder. */
static inline int64_t xdivide_recip(int64_t n, int64_t d, double inv, int32_t rnd) {
    int64_t q = (int64_t)floor((double)n * inv);
    int64_t r = n - q * d;
    q = r < 0 ? q - 1 : (r >= d ? q + 1 : q);
    r = r < 0 ? r + d : (r >= d ? r - d : r);
    int64_t up = rnd == XBAR_FLOOR ? 0
               : rnd == XBAR_TRUNC ? (n < 0 && r != 0)
               : rnd == XBAR_HALF_UP ? (2 * r >= d)
               : (2 * r > d || (2 * r == d && (q & 1)));
    return q + up;
}

XBAR_CLONES
void xbar_adc(const int64_t *x, int64_t n, int64_t lsb, int64_t offset, int32_t rnd, int64_t hi, int64_t *out) {
    const int64_t lim = (int64_t)1 << 50;
    int64_t big = 0;
    for (int64_t j = 0; j < n; j++) {
        int64_t v = x[j] - offset;
        big |= v >= lim || v <= -lim;
    }
    if (big || lsb >= lim) {
        for (int64_t j = 0; j < n; j++) {
            int64_t c = xdivide(x[j] - offset, lsb, rnd);
            out[j] = c < 0 ? 0 : (c > hi ? hi : c);
        }
        return;
    }
    double inv = 1.0 / (double)lsb;
    for (int64_t j = 0; j < n; j++) {
        int64_t c = xdivide_recip(x[j] - offset, lsb, inv, rnd);
        out[j] = c < 0 ? 0 : (c > hi ? hi : c);
    }
}

XBAR_CLONES
void xbar_addsub(const int64_t *a, const int64_t *b, int64_t lo, int64_t hi, int32_t sign, xbar_fit_t t, int64_t *out) {
    if (sign >= 0) {
        for (int64_t i = lo; i < hi; i++) out[i] = xfit(a[i] + b[i], t);
    } else {
        for (int64_t i = lo; i < hi; i++) out[i] = xfit(a[i] - b[i], t);
    }
}

XBAR_CLONES
void xbar_scale(const int64_t *x, int64_t lo, int64_t hi, int64_t mul, int32_t shift, int32_t rnd, xbar_fit_t t, int64_t *out) {
    for (int64_t i = lo; i < hi; i++) out[i] = xfit(xshift(x[i] * mul, shift, rnd), t);
}

void xbar_slice(const int64_t *x, int64_t start, int64_t stride, int64_t n, int64_t *out) {
    const int64_t *p = x + start;
    if (stride == 1) { memcpy(out, p, (size_t)n * sizeof(int64_t)); return; }
    for (int64_t i = 0; i < n; i++) out[i] = p[i * stride];
}

/* ---- Neuron units ---- */

XBAR_CLONES
int64_t xbar_lif(const xbar_lif_t *p, int64_t lo, int64_t hi, const int64_t *input, int64_t *mem, int64_t *refr,
                 int64_t *syn, int64_t *count, int64_t *spk, int64_t *trace_v, int32_t *spikes) {
    int64_t ns = 0;
    for (int64_t i = lo; i < hi; i++) {
        int64_t x = input[i];
        if (p->has_syn) {
            int64_t d = xshift(syn[i] * p->syn_mul, p->syn_shift, p->syn_rnd);
            syn[i] = xfit(d + x + p->syn_bias[i], p->syn);
            x = syn[i];
        }
        int64_t s = 0, tv;
        if (refr[i] > 0) {
            refr[i] -= 1;
            tv = mem[i];
        } else {
            int64_t d = xshift(mem[i] * p->decay_mul, p->decay_shift, p->decay_rnd);
            int64_t v = xfit(d + x + p->bias[i], p->mem);
            tv = v;
            if (p->spiking && (p->compare_ge ? v >= p->threshold : v > p->threshold)) {
                s = 1;
                mem[i] = p->reset_subtract ? xfit(v - p->threshold, p->mem) : 0;
                refr[i] = p->refractory;
                spikes[ns++] = (int32_t)i;
            } else {
                mem[i] = v;
            }
        }
        spk[i] = s;
        if (trace_v) trace_v[i] = tv;
        if (count) {
            int64_t c = count[i] + s;
            count[i] = c > p->count_hi ? p->count_hi : c;
        }
    }
    return ns;
}

int xbar_max_threads(void) { return omp_get_max_threads(); }
