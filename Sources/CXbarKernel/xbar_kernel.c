#include "xbar_kernel.h"
#include <omp.h>
#include <string.h>

/* Work below this many cell reads runs on one thread: forking costs more than it saves. */
#define XBAR_PARALLEL_MIN_WORK 65536

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

int xbar_max_threads(void) { return omp_get_max_threads(); }
