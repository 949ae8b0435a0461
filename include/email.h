/*
 * email.h — what counts as an e-mail address, and how two are compared.
 *
 * The rules are the contract's (API.md §3), not RFC 5322's: an address a
 * student information system exports should pass, and the typing errors
 * people make (a missing '@', a space, a trailing dot) should not.
 */
#ifndef GROUPD_EMAIL_H
#define GROUPD_EMAIL_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define EMAIL_MAX 254
#define EMAIL_LOCAL_MAX 64

/* NULL when s[0..len) (trimmed, valid UTF-8) is a valid address, else
 * what is wrong with it ("has no @", ...), for the error message. */
const char *email_problem(const char *s, size_t len);

/* Appends the comparison form (Unicode case folded) of a valid address. */
void email_key(const char *s, size_t len, struct buf *out);

#endif
