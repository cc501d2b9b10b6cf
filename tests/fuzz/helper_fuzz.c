/*
 * helper_fuzz.c — shared by the libFuzzer targets (see helper_fuzz.h). Also
 * LLVMFuzzerInitialize: logging at error level only, so a parser's warnings
 * about hostile input do not flood the fuzzer's output.
 */
#include "tests/fuzz/helper_fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	ufs_log_init(0, UFS_LOG_ERROR);
	return 0;
}

void ufs_fuzz_check(int ok, const char *what, const char *file, int line)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz: invariant failed at %s:%d: %s\n", file, line, what);
	abort();
}

char *ufs_fuzz_str(const uint8_t *data, size_t n)
{
	char *s = malloc(n + 1);

	if (!s)
		abort();
	memcpy(s, data, n);
	s[n] = '\0';
	return s;
}

size_t ufs_fuzz_fields(const uint8_t *data, size_t n, char sep, char **pf, size_t max)
{
	char *s = ufs_fuzz_str(data, n), *p = s;
	size_t k = 0;

	while (k < max) {
		pf[k++] = p;
		if (k == max || !(p = memchr(p, sep, (size_t)(s + n - p))))
			break;
		*p++ = '\0';
	}
	for (size_t i = k; i < max; i++)
		pf[i] = s + n; /* "" */
	return k;
}
