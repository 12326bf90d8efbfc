/* SPDX-License-Identifier: MIT */
/* The stored login: mspublish's own 0600 file, then the official SDK's. */
#ifndef MS_CREDENTIALS_H
#define MS_CREDENTIALS_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Find a stored token: $XDG_CONFIG_HOME/mspublish/login (written only by
 * `mspublish login`), then the m_session_id cookie in the official SDK's
 * $MODELSCOPE_HOME/credentials/cookies (default ~/.modelscope), read as
 * bytes without running the pickle.  *token_out (malloc'd) stays NULL when
 * there is none; *origin_out names the file.  Returns MS_OK or MS_ENOMEM.
 */
int ms_credentials_read(char **token_out, char **origin_out);
/* Store @p token with mode 0600 (atomically).  Message set on failure. */
int ms_credentials_write(const char *token, char **path_out);
/* Remove the stored token; MS_OK when there was none (*existed false). */
int ms_credentials_delete(char **path_out, bool *existed);
/* The m_session_id value in the bytes of a pickled cookie jar, or NULL. */
char *ms_credentials_from_pickle(const unsigned char *buf, size_t len);

#endif
