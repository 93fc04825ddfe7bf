#ifndef XBAR_FUZZ_H
#define XBAR_FUZZ_H
#include <stddef.h>
#include <stdint.h>

/* libFuzzer's driver when the fuzz target is built with it (scripts/fuzz.sh defines XBAR_LIBFUZZER and links
 * with -sanitize=fuzzer); otherwise returns -1 and xbar-fuzz replays files instead. */
int xbar_fuzz_driver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
