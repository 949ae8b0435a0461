/*
 * words.h — the search rule of API.md §4: text is folded (text_fold) and
 * split into words, a word being a maximal run of Unicode letters and
 * digits ("1A" is one word, "ECO-2025-01" three); a text matches a query
 * when every query word is a prefix of some word of the text.
 */
#ifndef GROUPD_WORDS_H
#define GROUPD_WORDS_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

struct word {
    size_t off, len; /* in words.folded */
};

struct words {
    struct buf folded;
    struct word *v;
    size_t n, cap;
};

#define WORDS_INIT                                                                                 \
    {                                                                                              \
        BUF_INIT, NULL, 0, 0                                                                       \
    }

/* Folds s[0..len) (valid UTF-8) and appends its words to w; several
 * texts may be added to one set. */
void words_add(struct words *w, const char *s, size_t len);
/* True when every word of query is a prefix of some word of text (a
 * query without words matches everything). */
bool words_match(const struct words *query, const struct words *text);
/* Drops query words that another query word already implies: a repeat,
 * or a prefix of a longer query word (whatever that one matches, it
 * matches too).  The result matches exactly the same texts. */
void words_drop_implied(struct words *w);
void words_reset(struct words *w);
void words_free(struct words *w);

#endif
