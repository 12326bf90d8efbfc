/* SPDX-License-Identifier: MIT */
/*
 * Random inputs for the core's parsers of untrusted text, run under
 * ASan/UBSan or valgrind:
 * - mutated SDK cookie jars fed to ms_credentials_from_pickle(): never a
 *   crash or a read past the buffer, a token found is bytes of the input;
 * - random lines of secrets, URLs and headers fed to ms_redact(): no
 *   registered secret survives, the output never grows.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "credentials.h"
#include "redact.h"
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

/*
 * Random lines built from secrets, their pieces, URLs and header names:
 * no registered secret survives and the output never grows.
 */
static void test_random_lines(void)
{
	static const char *const secrets[] = {
		"ms-abcd", "ms-abcd-EFGH", "EFGH-ijkl", "tok-0123456789", "0123-tok",
	};
	static const char *const bits[] = {
		"ms-abcd", "ms-abcd-EFGH", "EFGH-ijkl", "tok-0123456789", "0123-tok", "ms-", "-",
		"EFGH", "tok", "0123456789", "https://", "http://u:", "@", "/", " ", "\n", "\r\n",
		"\"", "Authorization: ", "Bearer ", "cookie:", "Set-Cookie: ", "x", "=", ";",
	};
	uint64_t st = 0x2545f4914f6cdd1dull;
	size_t leaks = 0, grew = 0;

	ms_redact_reset();
	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
		ms_redact_add(secrets[i]);
	for (int i = 0; i < 5000; i++) {
		char line[1024] = "";
		size_t n = 1 + fuzz_next(&st) % 16;
		char *got;

		for (size_t k = 0; k < n; k++)
			strcat(line, bits[fuzz_next(&st) % (sizeof(bits) / sizeof(bits[0]))]);
		got = ms_redact(line);
		if (!got)
			abort();
		for (size_t j = 0; j < sizeof(secrets) / sizeof(secrets[0]); j++)
			if (strstr(got, secrets[j])) {
				if (leaks++ < 3)
					printf("# leaked \"%s\" from \"%s\"\n", secrets[j], line);
			}
		/* only a 1-2 byte URL user may grow, to "***": 2 bytes a URL */
		{
			size_t urls = 0;

			for (const char *u = strstr(line, "://"); u; u = strstr(u + 3, "://"))
				urls++;
			if (strlen(got) > strlen(line) + 2 * urls)
				grew++;
		}
		free(got);
	}
	ok(leaks == 0, "5000 random lines: no registered secret survives (%zu leaks)", leaks);
	ok(grew == 0, "5000 random lines: the output grows only by short URL users (%zu)", grew);
	ms_redact_reset();
}

int main(void)
{
	test_pickle_fuzz();
	test_random_lines();
	return tap_done();
}
