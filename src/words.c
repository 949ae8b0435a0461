/* words.c — folding and splitting text into search words; see include/words.h. */
#include "words.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "text.h"

static bool is_word_char(utf8proc_int32_t cp)
{
    if (cp < 0x80)
        return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO: return true;
    default: return false;
    }
}

static void push(struct words *w, size_t off, size_t len)
{
    if (w->n == w->cap) {
        w->cap = w->cap ? 2 * w->cap : 8;
        w->v = realloc(w->v, w->cap * sizeof *w->v);
        if (!w->v)
            abort();
    }
    w->v[w->n].off = off;
    w->v[w->n].len = len;
    w->n++;
}

void words_add(struct words *w, const char *s, size_t len)
{
    size_t start = w->folded.len;
    if (!text_fold(s, len, &w->folded))
        return;
    buf_addc(&w->folded, ' '); /* texts added one after another stay apart */
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)w->folded.data;
    size_t i = start, end = w->folded.len, word = SIZE_MAX;
    while (i < end) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(p + i, (utf8proc_ssize_t)(end - i), &cp);
        if (n <= 0)
            break;
        if (is_word_char(cp)) {
            if (word == SIZE_MAX)
                word = i;
        } else if (word != SIZE_MAX) {
            push(w, word, i - word);
            word = SIZE_MAX;
        }
        i += (size_t)n;
    }
}

bool words_match(const struct words *query, const struct words *text)
{
    for (size_t q = 0; q < query->n; q++) {
        const char *qs = query->folded.data + query->v[q].off;
        size_t ql = query->v[q].len;
        bool found = false;
        for (size_t t = 0; t < text->n && !found; t++)
            found = text->v[t].len >= ql && memcmp(text->folded.data + text->v[t].off, qs, ql) == 0;
        if (!found)
            return false;
    }
    return true;
}

static int word_order(const void *pa, const void *pb, void *ctx)
{
    const struct words *w = ctx;
    const struct word *a = pa, *b = pb;
    int r =
        memcmp(w->folded.data + a->off, w->folded.data + b->off, a->len < b->len ? a->len : b->len);
    return r ? r : (a->len > b->len) - (a->len < b->len);
}

/* Sorted, the words starting with a word come right after it: a word is
 * implied when its successor starts with it (a repeat does too). */
void words_drop_implied(struct words *w)
{
    if (w->n < 2)
        return;
    qsort_r(w->v, w->n, sizeof *w->v, word_order, w);
    size_t n = 0;
    for (size_t i = 0; i < w->n; i++) {
        const struct word *a = &w->v[i], *b = &w->v[i + 1];
        bool implied = i + 1 < w->n && a->len <= b->len &&
                       memcmp(w->folded.data + a->off, w->folded.data + b->off, a->len) == 0;
        if (!implied)
            w->v[n++] = *a;
    }
    w->n = n;
}

void words_reset(struct words *w)
{
    buf_reset(&w->folded);
    w->n = 0;
}

void words_free(struct words *w)
{
    buf_free(&w->folded);
    free(w->v);
    memset(w, 0, sizeof *w);
}
