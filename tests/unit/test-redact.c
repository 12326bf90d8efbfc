/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of secret scrubbing (core/redact.c) and of the output paths
 * that must use it: ms_error_set(), ms_log(), ms_out().
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "log.h"
#include "redact.h"
#include "tap.h"

/* ms_redact(in) compared with want; the result freed. */
static void redacts(const char *in, const char *want, const char *name)
{
	char *got = ms_redact(in);

	is_str(got, want, "%s", name);
	free(got);
}

/* Run fn with stderr and stdout captured into one malloc'd string. */
static char *capture(void (*fn)(const char *), const char *arg)
{
	FILE *tmp = tmpfile();
	int saved_err, saved_out;
	char *buf;
	long len;

	if (!tmp)
		abort();
	fflush(stdout);
	fflush(stderr);
	saved_err = dup(STDERR_FILENO);
	saved_out = dup(STDOUT_FILENO);
	if (saved_err < 0 || saved_out < 0 || dup2(fileno(tmp), STDERR_FILENO) < 0 ||
	    dup2(fileno(tmp), STDOUT_FILENO) < 0)
		abort();
	fn(arg);
	fflush(stdout);
	fflush(stderr);
	if (dup2(saved_err, STDERR_FILENO) < 0 || dup2(saved_out, STDOUT_FILENO) < 0)
		abort();
	close(saved_err);
	close(saved_out);
	len = ftell(tmp);
	buf = calloc(1, (size_t)(len > 0 ? len : 0) + 1);
	if (!buf)
		abort();
	rewind(tmp);
	if (len > 0 && fread(buf, 1, (size_t)len, tmp) != (size_t)len)
		abort();
	fclose(tmp);
	return buf;
}

static void emit_log(const char *s)
{
	ms_log(MS_LOG_WARN, "warn %s", s);
	ms_log(MS_LOG_ERROR, "error %s", s);
	ms_log(MS_LOG_INFO, "info %s", s);
	ms_log(MS_LOG_VERBOSE, "verbose %s", s);
	ms_out(stdout, "out %s\n", s);
	ms_out(stderr, "err %s\n", s);
}

static void test_secrets(void)
{
	const char *tok = "ms-SECRET-0123456789abcdef";
	char *got;

	ms_redact_reset();
	redacts("nothing to hide", "nothing to hide", "no secrets: text unchanged");
	ms_redact_add(tok);
	redacts("token ms-SECRET-0123456789abcdef here", "token *** here", "one occurrence");
	redacts("ms-SECRET-0123456789abcdef", "***", "the whole string");
	redacts("a=ms-SECRET-0123456789abcdef&b=ms-SECRET-0123456789abcdef;x",
		"a=***&b=***;x", "several occurrences");
	got = ms_redact("<ms-SECRET-0123456789abcdefms-SECRET-0123456789abcdef>");
	ok(got && (!strcmp(got, "<***>") || !strcmp(got, "<******>")),
	   "adjacent occurrences: all masked (got \"%s\")", got ? got : "(null)");
	free(got);
	redacts("ms-SECRET-0123456789abcde", "ms-SECRET-0123456789abcde",
		"a prefix of the secret is not the secret");
	ms_redact_add(tok);
	redacts("x ms-SECRET-0123456789abcdef", "x ***", "adding a secret twice is harmless");

	ms_redact_add("second-secret-XYZ");
	redacts("ms-SECRET-0123456789abcdef second-secret-XYZ", "*** ***", "two secrets");
	/* overlapping: the second starts inside the first */
	ms_redact_add("abcdef-OVERLAP");
	ms_redact_add("OVERLAP-ghijkl");
	got = ms_redact("[abcdef-OVERLAP-ghijkl]");
	ok(got && !strstr(got, "abcdef-OVERLAP") && !strstr(got, "OVERLAP-ghijkl"),
	   "overlapping secrets: neither survives (got \"%s\")", got ? got : "(null)");
	free(got);

	/* a secret that contains a registered shorter one is masked whole */
	ms_redact_add("ms-abcd");
	ms_redact_add("ms-abcd-EFGHIJKLMNOP");
	redacts("tok=ms-abcd-EFGHIJKLMNOP", "tok=***", "a secret containing another: no tail");
	ms_redact_add("aaaa1111");
	ms_redact_add("1111bbbb");
	redacts("x aaaa1111bbbb y", "x *** y", "overlapping secrets: one mask, no tail");

	/* short strings would mask ordinary words */
	ms_redact_add("abc");
	ms_redact_add("");
	ms_redact_add(NULL);
	redacts("abc abcd", "abc abcd", "secrets shorter than 4 bytes are ignored");
	ms_redact_add("wxyz");
	redacts("wxyz!", "***!", "a 4-byte secret is masked");

	got = ms_redact(NULL);
	is_str(got, "", "ms_redact(NULL) is \"\"");
	free(got);

	ms_redact_reset();
	redacts("token ms-SECRET-0123456789abcdef", "token ms-SECRET-0123456789abcdef",
		"reset forgets every secret");
	redacts("wxyz", "wxyz", "reset forgets short secrets too");
	ms_redact_add(tok);
	redacts("again ms-SECRET-0123456789abcdef", "again ***", "secrets work again after reset");
	ms_redact_reset();
}

static void test_urls(void)
{
	ms_redact_reset();
	redacts("https://user:pass@hub.example/a.git", "https://***@hub.example/a.git",
		"user:password in a URL");
	redacts("http://oauth2@127.0.0.1:8080/x", "http://***@127.0.0.1:8080/x",
		"user only in a URL");
	redacts("clone https://a:b@h1/x then http://c:d@h2/y", "clone https://***@h1/x then http://***@h2/y",
		"two URLs in one line");
	redacts("https://hub.example/path/a@b", "https://hub.example/path/a@b",
		"an @ in the path is not userinfo");
	redacts("https://hub.example/?mail=a@b.c", "https://hub.example/?mail=a@b.c",
		"an @ in the query is not userinfo");
	redacts("https://hub.example/x", "https://hub.example/x", "a URL without userinfo");
	/* B20: a 1-2 byte user grows to "***" inside the same allocation */
	redacts("http://u@h", "http://***@h", "a one-byte user");
	redacts("x http://u:@h y https://me@hub z", "x http://***@h y https://***@hub z",
		"short users in two URLs");
	redacts("mail me: a@b.example", "mail me: a@b.example", "an e-mail address is left alone");
	redacts("https://***@h/x", "https://***@h/x", "already masked stays the same");
}

static void test_headers(void)
{
	ms_redact_reset();
	redacts("Authorization: Bearer abcdef123456", "Authorization: Bearer ***",
		"Authorization: the scheme stays, the credential goes");
	redacts("authorization: token zzzzyyyy", "authorization: token ***",
		"header names are case-insensitive");
	redacts("> AUTHORIZATION: Basic dXNlcjpwYXNz", "> AUTHORIZATION: Basic ***",
		"upper-case header in a trace line");
	redacts("Cookie: m_session_id=abcdef; other=1", "Cookie: ***", "Cookie: the whole value");
	redacts("< Set-Cookie: m_session_id=abcdef; Path=/", "< Set-Cookie: ***",
		"Set-Cookie: the whole value");
	redacts("GET /x HTTP/1.1\r\nAuthorization: Bearer secret-abc\r\nHost: h\r\n",
		"GET /x HTTP/1.1\r\nAuthorization: Bearer ***\r\nHost: h\r\n",
		"only to the end of the header line");
	redacts("Cookie: a=b\nCookie: m_session_id=zzzzzz\n", "Cookie: a=b\nCookie: ***\n",
		"every header line (a 3-byte value is not worth masking)");
	redacts("Host: hub.example", "Host: hub.example", "other headers untouched");
}

static void test_output_paths(void)
{
	const char *tok = "ms-SENTINEL-out-987654321";
	char *out;

	ms_redact_reset();
	ms_redact_add(tok);
	ms_error_set(MS_EAUTH, "bad token %s (Authorization: Bearer %s)", tok, tok);
	ok(!strstr(ms_error_last(), tok), "ms_error_set scrubs: \"%s\"", ms_error_last());
	ok(ms_error_last_code() == MS_EAUTH, "ms_error_set keeps the code");
	ok(strstr(ms_error_last(), "bad token ***") != NULL, "the rest of the message stays");

	ms_log_setup(false, true);
	out = capture(emit_log, tok);
	ok(!strstr(out, tok), "ms_log and ms_out scrub every level");
	ok(strstr(out, "WARNING: warn ***") && strstr(out, "ERROR: error ***") &&
	   strstr(out, "info ***") && strstr(out, "verbose ***") && strstr(out, "out ***") &&
	   strstr(out, "err ***"), "every line was printed, masked");
	if (strstr(out, tok))
		printf("# output was:\n# %s\n", out);
	free(out);
	ms_log_setup(false, false);
	ms_redact_reset();
}

int main(void)
{
	test_secrets();
	test_urls();
	test_headers();
	test_output_paths();
	return tap_done();
}
