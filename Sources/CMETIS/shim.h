// METIS graph partitioning (Debian libmetis-dev), used by the compiler's placement pass (docs/compiler.md).
#include <metis.h>
