/* SPDX-License-Identifier: MIT */
/* Secret scrubbing for every byte mspublish prints or writes. */
#ifndef MS_REDACT_H
#define MS_REDACT_H

#include <stddef.h>

/* Register a secret (copied; ignored when shorter than 4 bytes). */
void ms_redact_add(const char *secret);
/*
 * Return a malloc'd copy of src with every registered secret, the userinfo
 * of URLs ("scheme://user:pass@") and the value of Authorization / Cookie
 * headers replaced by "***".  NULL only on allocation failure.
 */
char *ms_redact(const char *src);
/* Forget every secret, wiping the copies (end of run, tests). */
void ms_redact_reset(void);

#endif
