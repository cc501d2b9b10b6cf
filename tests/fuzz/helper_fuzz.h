/*
 * helper_fuzz.h — what every libFuzzer target of tests/fuzz/ shares: turning
 * the fuzzer's bytes into C strings and fields, and an invariant check that
 * aborts (libFuzzer then saves the input as a crash).
 */
#ifndef UFS_HELPER_FUZZ_H
#define UFS_HELPER_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* Abort with "fuzz: invariant failed: what" when cond is false. */
#define UFS_FUZZ_CHECK(cond, what) ufs_fuzz_check((cond) != 0, (what), __FILE__, __LINE__)
void ufs_fuzz_check(int ok, const char *what, const char *file, int line);

/* data[0..n) as a malloc'd NUL-terminated string (an inner NUL ends it
 * early, as it would for the C string the daemon holds). Aborts on ENOMEM. */
char *ufs_fuzz_str(const uint8_t *data, size_t n);

/*
 * Split data[0..n) at each sep into at most max fields, the last taking the
 * rest: pf[i] points into one malloc'd copy (free pf[0]); fields that the
 * input does not reach are "". Returns the number of fields present.
 */
size_t ufs_fuzz_fields(const uint8_t *data, size_t n, char sep, char **pf, size_t max);

#endif
