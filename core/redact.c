/* SPDX-License-Identifier: MIT */
/* Secret scrubbing: every line mspublish prints passes through here. */
#include <ctype.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "redact.h"

#define MASK "***"

static pthread_mutex_t red_lock = PTHREAD_MUTEX_INITIALIZER;
static char **secrets;
static size_t n_secrets;

void ms_redact_add(const char *secret)
{
	char **grown;
	char *copy;

	/* Short strings would mask ordinary words; no real token is that short. */
	if (!secret || strlen(secret) < 4)
		return;
	copy = strdup(secret);
	if (!copy)
		return;
	pthread_mutex_lock(&red_lock);
	for (size_t i = 0; i < n_secrets; i++) {
		if (!strcmp(secrets[i], secret)) {
			pthread_mutex_unlock(&red_lock);
			free(copy);
			return;
		}
	}
	grown = realloc(secrets, (n_secrets + 1) * sizeof(*secrets));
	if (grown) {
		secrets = grown;
		secrets[n_secrets++] = copy;
		copy = NULL;
	}
	pthread_mutex_unlock(&red_lock);
	free(copy);
}

void ms_redact_reset(void)
{
	pthread_mutex_lock(&red_lock);
	for (size_t i = 0; i < n_secrets; i++) {
		explicit_bzero(secrets[i], strlen(secrets[i]));
		free(secrets[i]);
	}
	free(secrets);
	secrets = NULL;
	n_secrets = 0;
	pthread_mutex_unlock(&red_lock);
}

/*
 * Mask every occurrence of every secret.  Matches are marked on the original
 * text first and each run of marked bytes becomes one mask, so a secret that
 * contains or overlaps another is still hidden whole.
 */
static char *mask_secrets(const char *src)
{
	size_t len = strlen(src), o = 0, urls = 0;
	bool *hit = calloc(len + 1, sizeof(*hit));
	char *out;

	/* room for mask_userinfo(), which may grow a 1-2 byte user to "***" */
	for (const char *u = strstr(src, "://"); u; u = strstr(u + 3, "://"))
		urls++;
	out = malloc(len + 1 + 2 * urls);

	if (!hit || !out) {
		free(hit);
		free(out);
		return NULL;
	}
	pthread_mutex_lock(&red_lock);
	for (size_t i = 0; i < n_secrets; i++) {
		size_t sl = strlen(secrets[i]);
		const char *p = src;

		while ((p = strstr(p, secrets[i])) != NULL) {
			memset(hit + (p - src), 1, sl);
			p++;
		}
	}
	pthread_mutex_unlock(&red_lock);
	for (size_t i = 0; i < len;) {
		if (!hit[i]) {
			out[o++] = src[i++];
			continue;
		}
		memcpy(out + o, MASK, 3);
		o += 3;
		while (i < len && hit[i])
			i++;
	}
	out[o] = '\0';
	free(hit);
	return out;
}

/*
 * The userinfo of "https://user:pass@host" is masked to three stars.  The
 * buffer has 2 spare bytes per "://" (mask_secrets), as a user of 1 or 2
 * bytes grows to three.
 */
static void mask_userinfo(char *s)
{
	char *p = s;

	while ((p = strstr(p, "://")) != NULL) {
		char *start = p + 3, *q = start;

		while (*q && *q != '@' && *q != '/' && !isspace((unsigned char)*q))
			q++;
		if (*q == '@' && q > start && !(q - start == 3 && !memcmp(start, MASK, 3))) {
			memmove(start + 3, q, strlen(q) + 1);
			memcpy(start, MASK, 3);
		}
		p = start;
	}
}

/* "Authorization: Bearer x" / "Cookie: a=b" -> value masked to end of line */
static void mask_header(char *s, const char *name)
{
	size_t nl = strlen(name);
	char *p = s;

	while (*p) {
		if (!strncasecmp(p, name, nl) && (p == s || p[-1] == '\n' || p[-1] == ' ' || p[-1] == '"')) {
			char *v = p + nl, *end;

			while (*v == ' ')
				v++;
			/* keep the auth scheme word ("Bearer", "Basic") readable */
			if (!strncasecmp(name, "authorization:", nl)) {
				char *w = v;

				while (*w && *w != ' ' && *w != '\r' && *w != '\n' && *w != '"')
					w++;
				if (*w == ' ')
					v = w + 1;
			}
			end = v;
			while (*end && *end != '\r' && *end != '\n' && *end != '"')
				end++;
			if (end - v > 3) {
				memcpy(v, MASK, 3);
				memmove(v + 3, end, strlen(end) + 1);
			}
			p = v;
			continue;
		}
		p++;
	}
}

char *ms_redact(const char *src)
{
	char *out = mask_secrets(src ? src : "");

	if (!out)
		return NULL;
	mask_userinfo(out);
	mask_header(out, "authorization:");
	mask_header(out, "cookie:");
	mask_header(out, "set-cookie:");
	return out;
}
