/* SPDX-License-Identifier: MIT */
/*
 * Mutated SDK cookie jars fed to ms_credentials_from_pickle() (core/
 * credentials.c): a file anyone could have written must never crash the
 * reader or make it read past the buffer (run it under ASan/UBSan or
 * valgrind), and a token it finds must be bytes of the input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "credentials.h"
#include "settings-util.h"
#include "tap.h"

/* xorshift64: a fixed, portable sequence for the mutations below. */
static uint64_t fuzz_next(uint64_t *st)
{
	uint64_t x = *st;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*st = x;
	return x;
}

/*
 * The cookie jar is read from a file anyone could have written: mutated
 * jars must never crash (ASan/valgrind runs catch stray reads), and a token
 * found must be bytes of the input, at most 4096 long.
 */
static void test_pickle_fuzz(void)
{
	static const char *const seeds[] = {
		"sdk-cookies-one.pickle", "sdk-cookies-multi.pickle",
		"sdk-cookies-expired.pickle", "sdk-cookies-none.pickle",
	};
	uint64_t st = 0x9e3779b97f4a7c15ull;
	size_t bad = 0, found = 0, runs = 0;

	for (size_t k = 0; k < sizeof(seeds) / sizeof(seeds[0]); k++) {
		size_t len;
		unsigned char *seed = su_read(su_fixture(seeds[k]), &len);

		for (int i = 0; i < 2500; i++) {
			unsigned char *m = malloc(len + 16);
			size_t mlen = len, edits = 1 + fuzz_next(&st) % 4;
			char *tok;

			memcpy(m, seed, len);
			for (size_t e = 0; e < edits && mlen; e++) {
				uint64_t r = fuzz_next(&st);
				size_t at = (size_t)(r >> 8) % mlen;

				switch (r % 4) {
				case 0: /* flip a bit */
					m[at] ^= (unsigned char)(1u << ((r >> 40) % 8));
					break;
				case 1: /* an interesting byte: lengths, opcodes */
					m[at] = (unsigned char)"\x00\x01\x7f\x80\xff\x8c\x94hjqrXKJ"[(r >> 40) % 14];
					break;
				case 2: /* truncate */
					mlen = at;
					break;
				default: /* a big length field */
					if (at + 4 < mlen)
						memset(m + at + 1, 0xff, 4);
					break;
				}
			}
			/* an exact-size copy, so ASan sees reads past the end */
			{
				unsigned char *exact = malloc(mlen ? mlen : 1);

				memcpy(exact, m, mlen);
				tok = ms_credentials_from_pickle(exact, mlen);
				if (tok) {
					found++;
					if (strlen(tok) > 4096 ||
					    !memmem(exact, mlen, tok, strlen(tok)))
						bad++;
				}
				free(exact);
			}
			free(tok);
			free(m);
			runs++;
		}
		free(seed);
	}
	ok(bad == 0, "mutated cookie jars: %zu runs, %zu gave a token, all from the input", runs,
	   found);
}

int main(void)
{
	test_pickle_fuzz();
	return tap_done();
}
