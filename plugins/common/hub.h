/* SPDX-License-Identifier: MIT */
/*
 * The hub API calls both network backends make before they publish:
 * login (protocol doc 2.3) and creating a missing model repo (3.2).
 */
#ifndef MSCOMMON_HUB_H
#define MSCOMMON_HUB_H

#include <stdbool.h>

#include "net.h"

/* What POST /api/v1/login answered. */
struct mshub_login {
	bool authenticated;
	char username[128];
	char email[256];
	/*
	 * Data.AccessToken (the hub's git token) when it differs from the
	 * token sent; malloc'd, already registered as a secret; NULL if none.
	 * Freed (wiped) by mshub_login_clear().
	 */
	char *git_token;
};

/*
 * Log in with @p token (NULL or "" does nothing and returns MS_OK).  A
 * 401/403 is MS_EAUTH naming @p token_origin.  With @p missing_ok, a hub
 * without the call (404/405) is not an error: authenticated stays false.
 */
int mshub_login(struct msnet *n, const char *token, const char *token_origin,
		bool missing_ok, struct mshub_login *out);
void mshub_login_clear(struct mshub_login *l);

/*
 * Create model repo owner/name with the "visibility" (default private) and
 * "license" (default Apache-2.0) settings.  A repo that already exists is
 * not an error (*created_out false).  Says on the output which happened.
 */
int mshub_create_model(struct msnet *n, const char *owner, const char *name,
		       bool *created_out);

#endif
