#ifndef XBAR_KERNEL_H
#define XBAR_KERNEL_H
#include <stdint.h>

/// Column sums of a crossbar read with 1-bit row drive:
/// out[j] = sum_{k < n_rows} codes[rows[k] * n_cols_total + col0 + j], for 0 <= j < n_out.
/// Integer sums are exact, so the result does not depend on the thread count.
void xbar_read_columns(const int32_t *codes, int64_t n_cols_total, const int32_t *rows, int64_t n_rows,
                       int64_t col0, int64_t n_out, int64_t *out, int threads);

/// The same read summing two matrices over the same driven rows in one pass: conductance codes into `out`
/// and per-cell read variances into `var_out` (read noise).
void xbar_read_columns2(const int32_t *codes, const int32_t *var, int64_t n_cols_total, const int32_t *rows, int64_t n_rows,
                        int64_t col0, int64_t n_out, int64_t *out, int64_t *var_out, int threads);

/// Number of threads OpenMP would use by default.
int xbar_max_threads(void);

#endif
