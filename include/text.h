/*
 * text.h — UTF-8 checks, trimming and folding.
 *
 * All text that enters groupd passes through here: the contract wants
 * strings that are valid UTF-8 without NUL, trimmed of surrounding white
 * space, with lengths counted in code points.  Folding (Unicode case
 * folding, compatibility decomposition, removal of combining marks) is done
 * by utf8proc, so no hand-written tables live in this project.
 */
#ifndef GROUPD_TEXT_H
#define GROUPD_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* True when s[0..len) is well-formed UTF-8: no overlong forms, no
 * surrogates (U+D800..U+DFFF), nothing above U+10FFFF.  NUL is allowed
 * here; callers that forbid it use memchr. */
bool text_valid_utf8(const char *s, size_t len);

/* Number of code points in valid UTF-8. */
size_t text_codepoints(const char *s, size_t len);
/* The length of the longest prefix of s[0..len) of at most max bytes that
 * does not end inside a character (for quoting part of a value). */
size_t text_utf8_prefix(const char *s, size_t len, size_t max);

/* Narrows s[0..*len) to exclude leading and trailing white space (ASCII
 * white space and Unicode separators, categories Zs/Zl/Zp).  Returns the
 * new start; *len is updated.  s must be valid UTF-8. */
const char *text_trim(const char *s, size_t *len);

/* True when s contains a control character (C0, DEL or C1). */
bool text_has_control(const char *s, size_t len);

/* True when s (valid UTF-8) contains white space (as text_trim sees it). */
bool text_has_space(const char *s, size_t len);

/* Appends s (valid UTF-8) with Unicode case folding only (NFC, no
 * accent removal): the comparison form of e-mail addresses, where
 * "Jose@X.nl" = "jose@x.nl" but "josé" != "jose".  ASCII takes a fast
 * path.  Returns false only if utf8proc rejects the input. */
bool text_casefold(const char *s, size_t len, struct buf *out);

/* Appends the folded form of valid UTF-8 s to out: NFKD, case folded,
 * combining marks removed ("Économie" -> "economie", "Straße" ->
 * "strasse").  Returns false only if utf8proc rejects the input. */
bool text_fold(const char *s, size_t len, struct buf *out);

#endif
