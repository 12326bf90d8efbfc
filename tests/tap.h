/* SPDX-License-Identifier: MIT */
/* A tiny TAP producer for the C unit tests (run by meson, protocol tap). */
#ifndef MS_TAP_H
#define MS_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

/* ok(cond, name...): one TAP line; the failing expression is printed. */
#define ok(cond, ...)                                                    \
	do {                                                             \
		int ok_c_ = !!(cond);                                    \
		tap_n++;                                                 \
		if (!ok_c_)                                              \
			tap_failed++;                                    \
		printf("%sok %d - ", ok_c_ ? "" : "not ", tap_n);        \
		printf(__VA_ARGS__);                                     \
		printf("\n");                                            \
		if (!ok_c_)                                              \
			printf("#   failed: %s (%s:%d)\n", #cond,        \
			       __FILE__, __LINE__);                      \
	} while (0)

/* is_str(got, want, name...): string equality, both shown on failure. */
#define is_str(got, want, ...)                                           \
	do {                                                             \
		const char *is_g_ = (got), *is_w_ = (want);              \
		int is_c_ = is_g_ && is_w_ ? !strcmp(is_g_, is_w_)       \
					   : is_g_ == is_w_;             \
		ok(is_c_, __VA_ARGS__);                                  \
		if (!is_c_)                                              \
			printf("#   got:  \"%s\"\n#   want: \"%s\"\n",  \
			       is_g_ ? is_g_ : "(null)",                 \
			       is_w_ ? is_w_ : "(null)");                \
	} while (0)

/* Print the plan line last and return the exit status for main(). */
static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
