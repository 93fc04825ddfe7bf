#ifndef XBAR_KERNEL_H
#define XBAR_KERNEL_H
#include <stdint.h>

/* The shared native op kernels of docs/ir.md (used by the fast and the cycle engine; the exact GMP engine and the
 * RTL are independent implementations). Every integer rule (rounding, fit) is the one of XbarCore's `Fixed`. */

/// Rounding codes: the order of XbarCore's `Rounding` cases.
enum { XBAR_FLOOR = 0, XBAR_TRUNC = 1, XBAR_HALF_UP = 2, XBAR_HALF_EVEN = 3 };

/// An IR integer type with its overflow rule, as `Fixed.fit` applies it.
typedef struct {
    int64_t lo, hi;
    int32_t bits;
    int32_t is_signed;
    int32_t wrap;
} xbar_fit_t;

/// Column sums of a crossbar read with 1-bit row drive over a dense window:
/// out[j] = sum_{k < n_rows} window[rows[k] * stride + j], for 0 <= j < n_out.
/// Integer sums are exact, so the result does not depend on the thread count.
void xbar_read_columns(const int32_t *codes, int64_t n_cols_total, const int32_t *rows, int64_t n_rows,
                       int64_t col0, int64_t n_out, int64_t *out, int threads);

/// The same read summing two matrices over the same driven rows in one pass: conductance codes into `out`
/// and per-cell read variances into `var_out` (read noise).
void xbar_read_columns2(const int32_t *codes, const int32_t *var, int64_t n_cols_total, const int32_t *rows, int64_t n_rows,
                        int64_t col0, int64_t n_out, int64_t *out, int64_t *var_out, int threads);

/// Sparse read: row r of the window holds the cells row_ptr[r] ..< row_ptr[r+1] at columns col[] with values val[]
/// (and val2[] when non-NULL, summed into out2). out[j] = base + sum over driven rows of the row's value at column j
/// (out2[j] = base2 + ...): base is the background cells' contribution, the stored values their deviation from it.
void xbar_read_csr(const int64_t *row_ptr, const int32_t *col, const int32_t *val, const int32_t *val2,
                   const int32_t *rows, int64_t n_rows, int64_t n_out, int64_t base, int64_t base2, int64_t *out, int64_t *out2);

/// Dense read of a window stored as int16 (codes and variances that fit): out[j] = base + sum over the driven rows
/// of w[rows[k] * n_out + j] (and the same for w2 into out2 when w2 is non-NULL, plus base2). Accumulates in int32
/// blocks (exact: the caller guarantees n_rows * 32767 + base < 2^31).
void xbar_read_dense16(const int16_t *w, const int16_t *w2, const int32_t *rows, int64_t n_rows, int64_t n_out,
                       int64_t base, int64_t base2, int64_t *out, int64_t *out2);

/// ADC: out[j] = clamp(round_rnd((x[j] - offset) / lsb), 0, hi).
void xbar_adc(const int64_t *x, int64_t n, int64_t lsb, int64_t offset, int32_t rnd, int64_t hi, int64_t *out);

/// out[i] = fit(a[i] + sign * b[i]) for i in [lo, hi).
void xbar_addsub(const int64_t *a, const int64_t *b, int64_t lo, int64_t hi, int32_t sign, xbar_fit_t t, int64_t *out);

/// out[i] = fit(round_rnd(x[i] * mul / 2^shift)) for i in [lo, hi).
void xbar_scale(const int64_t *x, int64_t lo, int64_t hi, int64_t mul, int32_t shift, int32_t rnd, xbar_fit_t t, int64_t *out);

/// out[i] = x[start + i * stride] for i in [0, n).
void xbar_slice(const int64_t *x, int64_t start, int64_t stride, int64_t n, int64_t *out);

/// Parameters of one `lif` population (docs/ir.md, "lif"); bias and syn_bias hold one value per neuron.
typedef struct {
    xbar_fit_t mem;
    int64_t decay_mul;
    int32_t decay_shift, decay_rnd;
    int64_t threshold;
    int32_t compare_ge, reset_subtract, spiking, has_syn;
    int64_t refractory;
    const int64_t *bias;
    xbar_fit_t syn;
    int64_t syn_mul;
    int32_t syn_shift, syn_rnd;
    const int64_t *syn_bias;
    int64_t count_hi;
} xbar_lif_t;

/// The lif update of neurons [lo, hi): reads input[i], updates mem/refr/syn (syn only with a synapse) and, when
/// `count` is non-NULL, the saturating spike count; writes spk[i] (0/1) and, when `trace_v` is non-NULL, the
/// membrane trace value. Spiking neuron indices are appended to `spikes` (ascending); returns their number.
int64_t xbar_lif(const xbar_lif_t *p, int64_t lo, int64_t hi, const int64_t *input, int64_t *mem, int64_t *refr,
                 int64_t *syn, int64_t *count, int64_t *spk, int64_t *trace_v, int32_t *spikes);

/// Rows driven by one row source: for each a in active[0..n) with s0 <= a < s0 + count, appends row0 + a - s0 to
/// rows; returns the new length of rows (starting from `len`).
int64_t xbar_gather_rows(const int32_t *active, int64_t n, int32_t s0, int32_t count, int32_t row0, int32_t *rows, int64_t len);

/* ---- Run-time analog noise (docs/device.md, "Run-time normals") ---- */

/// The Philox4x32-10 block of counter (c0, c1, c2, c3) under key (k0, k1): the same function as XbarCore's `Philox.block`.
void xbar_philox(uint32_t k0, uint32_t k1, uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3, uint32_t out[4]);

/// Four standard normals per Philox block (purpose, a, b, c) for b in [first_block, first_block + n_blocks), written to
/// out[4 (b - first_block) + e]: Box-Muller on the block's four 32-bit words with the project's own logarithm and
/// sine/cosine polynomials in plain IEEE-754 double arithmetic (no fused multiply-add), so every engine, thread count
/// and machine gets the same bits.
void xbar_normals(uint32_t k0, uint32_t k1, uint32_t purpose, uint32_t a, uint32_t c, int64_t first_block, int64_t n_blocks,
                  double *out);

/// Per-read noise of columns col0 .. col0 + n - 1 of read op `op` at `event`: for var[j] > 0,
/// sums[j] = clamp(sums[j] + round_half_even(sqrt(var[j]) * z), 0, max_value), z the normal number col0 + j of the
/// stream (deviceRead, op, event). `scratch` holds at least n + 8 doubles.
void xbar_read_noise(int64_t *sums, const int64_t *var, int64_t n, int64_t col0, int64_t max_value, uint32_t k0, uint32_t k1,
                     uint32_t purpose, uint32_t op, uint32_t event, double *scratch);

/// ADC offset, gain and conversion noise: x[j] = round_half_even(x[j] * gain[j] + offset[j] + sigma * z_j), z_j the
/// normal number j of the stream (adcConversion, op, event) (no draw when sigma is 0). Results beyond +-2^62 are
/// clamped there (XbarCore `Fixed.roundReal`). `scratch` holds at least n + 8 doubles.
void xbar_adc_noise(int64_t *x, int64_t n, const double *offset, const double *gain, double sigma, uint32_t k0, uint32_t k1,
                    uint32_t purpose, uint32_t op, uint32_t event, double *scratch);

/// Number of threads OpenMP would use by default.
int xbar_max_threads(void);

/// Fused projection input: for each active source element a in active[0..n_active), input[neuron[e]] += weight[e]
/// for e in [row_ptr[a], row_ptr[a + 1]) (the neurons of one row are distinct).
void xbar_fused_gather(const int32_t *active, int64_t n_active, const int64_t *row_ptr, const int32_t *neuron,
                       const int32_t *weight, int64_t *input);

/// The indices j < n with row[j] != 0, ascending, into out; returns their number.
int64_t xbar_nonzero_columns(const int32_t *row, int64_t n, int32_t *out);

/// The sum of x[0..n).
int64_t xbar_sum_i32(const int32_t *x, int64_t n);

/// acc[j] += x[j] for j < n.
void xbar_accumulate_i32(int64_t *acc, const int32_t *x, int64_t n);

#endif
