#include "xbar_kernel.h"
#include "xbar_convert.h"
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

/* One matrix of a dense int16 read: columns in blocks of XBAR_BLOCK held in int32 accumulators (registers) while
 * every driven row is added. */
#define XBAR_BLOCK 64
static inline __attribute__((always_inline)) void dense16_sum(const int16_t *restrict w, const int32_t *restrict rows, int64_t n_rows,
                                                             int64_t n_out, int64_t base, int64_t *restrict out) {
    int64_t lo = 0;
    for (; lo + XBAR_BLOCK <= n_out; lo += XBAR_BLOCK) {
        int32_t acc[XBAR_BLOCK];
        for (int j = 0; j < XBAR_BLOCK; j++) acc[j] = 0;
        for (int64_t k = 0; k < n_rows; k++) {
            const int16_t *restrict row = w + (int64_t)rows[k] * n_out + lo;
            for (int j = 0; j < XBAR_BLOCK; j++) acc[j] += row[j];
        }
        for (int j = 0; j < XBAR_BLOCK; j++) out[lo + j] = base + acc[j];
    }
    if (lo < n_out) {
        int64_t m = n_out - lo;
        int32_t acc[XBAR_BLOCK];
        for (int j = 0; j < XBAR_BLOCK; j++) acc[j] = 0;
        for (int64_t k = 0; k < n_rows; k++) {
            const int16_t *restrict row = w + (int64_t)rows[k] * n_out + lo;
            for (int64_t j = 0; j < m; j++) acc[j] += row[j];
        }
        for (int64_t j = 0; j < m; j++) out[lo + j] = base + acc[j];
    }
}

XBAR_CLONES
void xbar_read_dense16(const int16_t *w, const int16_t *w2, const int32_t *rows, int64_t n_rows, int64_t n_out,
                       int64_t base, int64_t base2, int64_t *out, int64_t *out2) {
    dense16_sum(w, rows, n_rows, n_out, base, out);
    if (w2) dense16_sum(w2, rows, n_rows, n_out, base2, out2);
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
 * and one integer correction makes it exact; then the rounding rule `rnd` (a constant after inlining, so the loops
 * below vectorise) on the exact remainder. */
static inline __attribute__((always_inline)) int64_t xdivide_recip(int64_t n, int64_t d, double inv, const int32_t rnd) {
    int64_t q = xbar_f64_to_i64_rne(floor(xbar_i64_to_f64(n) * inv)); /* exact casts for |n| < 2^50 */
    int64_t r = n - q * d;
    q = r < 0 ? q - 1 : (r >= d ? q + 1 : q);
    r = r < 0 ? r + d : (r >= d ? r - d : r);
    int64_t up = rnd == XBAR_FLOOR ? 0
               : rnd == XBAR_TRUNC ? (n < 0 && r != 0)
               : rnd == XBAR_HALF_UP ? (2 * r >= d)
               : (2 * r > d || (2 * r == d && (q & 1)));
    return q + up;
}

static inline __attribute__((always_inline)) void adc_recip(const int64_t *restrict x, int64_t n, int64_t lsb, int64_t offset,
                                                           int64_t hi, int64_t *restrict out, const int32_t rnd) {
    double inv = 1.0 / (double)lsb;
    for (int64_t j = 0; j < n; j++) {
        int64_t c = xdivide_recip(x[j] - offset, lsb, inv, rnd);
        out[j] = c < 0 ? 0 : (c > hi ? hi : c);
    }
}

XBAR_CLONES
void xbar_adc(const int64_t *x, int64_t n, int64_t lsb, int64_t offset, int32_t rnd, int64_t hi, int64_t *out) {
    const int64_t lim = (int64_t)1 << 50;
    int64_t big = lsb >= lim;
    for (int64_t j = 0; j < n; j++) {
        int64_t v = x[j] - offset;
        big |= (v >= lim) | (v <= -lim);
    }
    if (big) {
        for (int64_t j = 0; j < n; j++) {
            int64_t c = xdivide(x[j] - offset, lsb, rnd);
            out[j] = c < 0 ? 0 : (c > hi ? hi : c);
        }
        return;
    }
    switch (rnd) {
    case XBAR_FLOOR: adc_recip(x, n, lsb, offset, hi, out, XBAR_FLOOR); break;
    case XBAR_TRUNC: adc_recip(x, n, lsb, offset, hi, out, XBAR_TRUNC); break;
    case XBAR_HALF_UP: adc_recip(x, n, lsb, offset, hi, out, XBAR_HALF_UP); break;
    default: adc_recip(x, n, lsb, offset, hi, out, XBAR_HALF_EVEN); break;
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

/* The lif loops are branch-free per neuron, with the rounding rule, the overflow rule and the trace as compile-time
 * constants of each instantiation (`rnd`, `wrap`, `tr`), so they vectorise; no store is masked (a masked store to an
 * absent trace costs a fault-suppression assist per vector). */
static inline __attribute__((always_inline)) int64_t xshift_k(int64_t x, int32_t s, const int32_t rnd) {
    int64_t q = x >> s;
    int64_t rem = x - (int64_t)((uint64_t)q << s);
    int64_t half = ((int64_t)1 << s) >> 1;
    switch (rnd) {
    case XBAR_FLOOR: return q;
    case XBAR_TRUNC: return q + (x < 0 && rem != 0);
    case XBAR_HALF_UP: return q + (s > 0 && rem >= half);
    default: return q + (s > 0 && (rem > half || (rem == half && (q & 1))));
    }
}

static inline __attribute__((always_inline)) int64_t xfit_k(int64_t v, xbar_fit_t t, const int wrap) {
    if (!wrap) return v < t.lo ? t.lo : (v > t.hi ? t.hi : v);
    uint64_t mask = ((uint64_t)1 << t.bits) - 1;
    uint64_t m = (uint64_t)v & mask;
    uint64_t sign = t.is_signed ? ((m >> (t.bits - 1)) & 1) : 0;
    return (int64_t)(sign ? (m | ~mask) : m);
}

static inline __attribute__((always_inline)) void syn_update(const xbar_lif_t *p, int64_t lo, int64_t hi, const int64_t *restrict x,
                                                            int64_t *restrict syn, const int32_t rnd, const int wrap) {
    const int64_t mul = p->syn_mul;
    const int32_t sh = p->syn_shift;
    const int64_t *restrict bias = p->syn_bias;
    for (int64_t i = lo; i < hi; i++) syn[i] = xfit_k(xshift_k(syn[i] * mul, sh, rnd) + x[i] + bias[i], p->syn, wrap);
}

static inline __attribute__((always_inline)) void mem_update(const xbar_lif_t *p, int64_t lo, int64_t hi, const int64_t *restrict x,
                                                            int64_t *restrict mem, int64_t *restrict refr, int64_t *restrict spk,
                                                            int64_t *restrict trace_v, const int32_t rnd, const int wrap, const int tr) {
    const int64_t mul = p->decay_mul, thr = p->threshold, refractory = p->refractory;
    const int32_t sh = p->decay_shift;
    const int64_t ge = p->compare_ge, subtract = p->reset_subtract, spiking = p->spiking;
    const int64_t *restrict bias = p->bias;
    const xbar_fit_t t = p->mem;
    for (int64_t i = lo; i < hi; i++) {
        int64_t m0 = mem[i], r0 = refr[i];
        int64_t active = r0 > 0;
        int64_t v = xfit_k(xshift_k(m0 * mul, sh, rnd) + x[i] + bias[i], t, wrap);
        int64_t over = ge ? v >= thr : v > thr;
        int64_t s = spiking & over & !active;
        int64_t reset = subtract ? xfit_k(v - thr, t, wrap) : 0;
        mem[i] = active ? m0 : (s ? reset : v);
        refr[i] = active ? r0 - 1 : (s ? refractory : r0);
        spk[i] = s;
        if (tr) trace_v[i] = active ? m0 : v;
    }
}

#define XBAR_RND_WRAP_DISPATCH(rnd, wrap, CALL) \
    switch ((rnd) * 2 + ((wrap) != 0)) { \
    case 0: CALL(XBAR_FLOOR, 0); break; \
    case 1: CALL(XBAR_FLOOR, 1); break; \
    case 2: CALL(XBAR_TRUNC, 0); break; \
    case 3: CALL(XBAR_TRUNC, 1); break; \
    case 4: CALL(XBAR_HALF_UP, 0); break; \
    case 5: CALL(XBAR_HALF_UP, 1); break; \
    case 6: CALL(XBAR_HALF_EVEN, 0); break; \
    default: CALL(XBAR_HALF_EVEN, 1); break; \
    }

XBAR_CLONES
int64_t xbar_lif(const xbar_lif_t *p, int64_t lo, int64_t hi, const int64_t *input, int64_t *mem, int64_t *refr,
                 int64_t *syn, int64_t *count, int64_t *spk, int64_t *trace_v, int32_t *spikes) {
    if (p->has_syn) {
#define XBAR_SYN(R, W) syn_update(p, lo, hi, input, syn, R, W)
        XBAR_RND_WRAP_DISPATCH(p->syn_rnd, p->syn.wrap, XBAR_SYN)
#undef XBAR_SYN
        input = syn;
    }
    if (trace_v) {
#define XBAR_MEM(R, W) mem_update(p, lo, hi, input, mem, refr, spk, trace_v, R, W, 1)
        XBAR_RND_WRAP_DISPATCH(p->decay_rnd, p->mem.wrap, XBAR_MEM)
#undef XBAR_MEM
    } else {
#define XBAR_MEM(R, W) mem_update(p, lo, hi, input, mem, refr, spk, trace_v, R, W, 0)
        XBAR_RND_WRAP_DISPATCH(p->decay_rnd, p->mem.wrap, XBAR_MEM)
#undef XBAR_MEM
    }
    if (count)
        for (int64_t i = lo; i < hi; i++) {
            int64_t c = count[i] + spk[i];
            count[i] = c > p->count_hi ? p->count_hi : c;
        }
    int64_t ns = 0;
    for (int64_t i = lo; i < hi; i++) {
        spikes[ns] = (int32_t)i;
        ns += spk[i];
    }
    return ns;
}

int xbar_max_threads(void) { return omp_get_max_threads(); }

/* ---- Fused projections ---- */

void xbar_fused_gather(const int32_t *active, int64_t n_active, const int64_t *row_ptr, const int32_t *neuron,
                       const int32_t *weight, int64_t *input) {
    for (int64_t i = 0; i < n_active; i++) {
        int64_t a = active[i];
        const int32_t *nb = neuron + row_ptr[a], *wb = weight + row_ptr[a];
        int64_t m = row_ptr[a + 1] - row_ptr[a];
        for (int64_t e = 0; e < m; e++) input[nb[e]] += wb[e];
    }
}

XBAR_CLONES
int64_t xbar_nonzero_columns(const int32_t *row, int64_t n, int32_t *out) {
    int64_t c = 0;
    for (int64_t j = 0; j < n; j++) {
        out[c] = (int32_t)j;
        c += row[j] != 0;
    }
    return c;
}

XBAR_CLONES
int64_t xbar_sum_i32(const int32_t *x, int64_t n) {
    int64_t s = 0;
    for (int64_t j = 0; j < n; j++) s += x[j];
    return s;
}

XBAR_CLONES
void xbar_accumulate_i32(int64_t *acc, const int32_t *x, int64_t n) {
    for (int64_t j = 0; j < n; j++) acc[j] += x[j];
}
