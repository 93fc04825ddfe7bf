// LAPACK (through its C interface LAPACKE) and CBLAS from Debian's liblapacke-dev, liblapack-dev and libblas-dev
// (reference Netlib builds; any BLAS/LAPACK selected with update-alternatives works). scripts/setup.sh installs them.
// XbarLearn uses: LAPACKE_dsyevd (symmetric eigendecomposition), LAPACKE_dposv (Cholesky solve),
// cblas_dsyrk and cblas_dgemm (Gram matrices).
#include <lapacke.h>
#include <cblas.h>
