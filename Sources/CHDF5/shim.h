// libhdf5 (Debian libhdf5-dev, serial flavour) for the NIR reader (Sources/XbarNIR, docs/nir.md).
// HDF5's handles and flags are macros that Swift cannot import (H5T_NATIVE_DOUBLE expands to a call plus a
// global); these inline functions expose the few the reader needs.
#ifndef XBAR_CHDF5_SHIM_H
#define XBAR_CHDF5_SHIM_H
#if __has_include(<hdf5/serial/hdf5.h>)
#include <hdf5/serial/hdf5.h>
#else
#include <hdf5.h>
#endif

static inline hid_t xbar_h5p_default(void) { return H5P_DEFAULT; }
static inline hid_t xbar_h5s_all(void) { return H5S_ALL; }
static inline unsigned xbar_h5f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline unsigned xbar_h5f_acc_trunc(void) { return H5F_ACC_TRUNC; }
static inline hid_t xbar_h5t_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t xbar_h5t_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t xbar_h5t_native_llong(void) { return H5T_NATIVE_LLONG; }
static inline hid_t xbar_h5t_ieee_f64le(void) { return H5T_IEEE_F64LE; }
static inline hid_t xbar_h5t_std_i64le(void) { return H5T_STD_I64LE; }
static inline hid_t xbar_h5p_dataset_create(void) { return H5P_DATASET_CREATE; }
static inline hid_t xbar_h5t_c_s1(void) { return H5T_C_S1; }
static inline size_t xbar_h5t_variable(void) { return H5T_VARIABLE; }
/// Silences HDF5's automatic error-stack printing to stderr.
static inline void xbar_h5_silence(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }
/// Frees the strings H5Dread/H5Aread allocated for variable-length string data.
static inline herr_t xbar_h5_reclaim(hid_t memtype, hid_t space, void *buf) {
#if H5_VERSION_GE(1, 12, 0)
    return H5Treclaim(memtype, space, H5P_DEFAULT, buf);
#else
    return H5Dvlen_reclaim(memtype, space, H5P_DEFAULT, buf);
#endif
}
#endif
