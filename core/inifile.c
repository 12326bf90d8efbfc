/* SPDX-License-Identifier: MIT */
/* inih glue: counts lines in the reader so errors can name file:line. */
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "inifile.h"

struct ini_state {
	FILE *f;
	const char *path;
	int line;        /* lines handed to inih so far */
	int too_long;    /* first line longer than inih's buffer */
	bool indented;   /* the line being parsed starts with blanks */
	ms_ini_cb cb;
	void *payload;
	int rc;          /* first callback error */
};

/* One physical line per call, so state->line is the line being parsed. */
static char *line_reader(char *str, int num, void *stream)
{
	struct ini_state *st = stream;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len = getline(&line, &cap, st->f);

	if (len < 0) {
		free(line);
		return NULL;
	}
	st->line++;
	st->indented = len > 0 && (line[0] == ' ' || line[0] == '\t');
	if (len >= num) {
		if (!st->too_long)
			st->too_long = st->line;
		len = num - 1;
	}
	memcpy(str, line, (size_t)len);
	str[len] = '\0';
	free(line);
	return str;
}

static int key_handler(void *user, const char *section, const char *name,
		       const char *value)
{
	struct ini_state *st = user;
	int rc;

	if (st->rc)
		return 0;
	rc = st->cb(section, name, value, st->line, st->indented, st->payload);
	if (rc) {
		st->rc = rc;
		return 0;
	}
	return 1;
}

int ms_ini_parse(const char *path, ms_ini_cb cb, void *payload)
{
	struct ini_state st = { .path = path, .cb = cb, .payload = payload };
	int bad;

	st.f = fopen(path, "r");
	if (!st.f)
		return ms_error_set(MS_EIO, "cannot read settings file \"%s\": %s",
				    path, strerror(errno));
	bad = ini_parse_stream(line_reader, &st, key_handler, &st);
	fclose(st.f);
	if (st.too_long && (!bad || st.too_long <= bad) && !st.rc)
		return ms_error_set(MS_EINVAL, "%s:%d: line too long", path,
				    st.too_long);
	if (st.rc)
		return st.rc;
	if (bad > 0)
		return ms_error_set(MS_EINVAL,
				    "%s:%d: syntax error (expected [section] or key = value)",
				    path, bad);
	if (bad < 0)
		return ms_error_set(MS_EIO, "cannot read settings file \"%s\"", path);
	return MS_OK;
}
