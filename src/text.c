/* text.c — UTF-8 validation, trimming and folding; see include/text.h. */
#include "text.h"

#include <stdint.h>
#include <stdlib.h>
#include <utf8proc.h>

/* Decodes one code point of valid-or-not UTF-8 at s (n bytes left).
 * Returns its length, or 0 if the sequence is malformed. */
static size_t decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    size_t need;
    uint32_t min;
    if ((s[0] & 0xE0) == 0xC0) {
        need = 2, min = 0x80, *cp = s[0] & 0x1F;
    } else if ((s[0] & 0xF0) == 0xE0) {
        need = 3, min = 0x800, *cp = s[0] & 0x0F;
    } else if ((s[0] & 0xF8) == 0xF0) {
        need = 4, min = 0x10000, *cp = s[0] & 0x07;
    } else {
        return 0;
    }
    if (n < need)
        return 0;
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        *cp = (*cp << 6) | (s[i] & 0x3F);
    }
    if (*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF))
        return 0;
    return need;
}

bool text_valid_utf8(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        size_t n = decode(p + i, len - i, &cp);
        if (!n)
            return false;
        i += n;
    }
    return true;
}

size_t text_codepoints(const char *s, size_t len)
{
    size_t count = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            count++;
    return count;
}

size_t text_utf8_prefix(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    size_t n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

static bool is_space(uint32_t cp)
{
    if (cp == ' ' || (cp >= '\t' && cp <= '\r'))
        return true;
    if (cp < 0x80)
        return false;
    utf8proc_category_t cat = utf8proc_category((utf8proc_int32_t)cp);
    return cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL ||
           cat == UTF8PROC_CATEGORY_ZP;
}

const char *text_trim(const char *s, size_t *len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t start = 0, end = *len;
    while (start < end) {
        uint32_t cp;
        size_t n = decode(p + start, end - start, &cp);
        if (!n || !is_space(cp))
            break;
        start += n;
    }
    /* Walk back from the end one code point at a time. */
    while (end > start) {
        size_t k = end - 1;
        while (k > start && (p[k] & 0xC0) == 0x80)
            k--;
        uint32_t cp;
        size_t n = decode(p + k, end - k, &cp);
        if (!n || !is_space(cp))
            break;
        end = k;
    }
    *len = end - start;
    return s + start;
}

bool text_has_control(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len; i++) {
        if (p[i] < 0x20 || p[i] == 0x7F)
            return true;
        /* C1 controls U+0080..U+009F are encoded as C2 80..C2 9F. */
        if (p[i] == 0xC2 && i + 1 < len && p[i + 1] >= 0x80 && p[i + 1] <= 0x9F)
            return true;
    }
    return false;
}

/* When s is all ASCII, appends it in lower case and returns true. */
static bool ascii_lower(const char *s, size_t len, struct buf *out)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] >= 0x80)
            return false;
    buf_reserve(out, len);
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        out->data[out->len++] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
    }
    out->data[out->len] = '\0';
    return true;
}

bool text_fold(const char *s, size_t len, struct buf *out)
{
    /* ASCII folds to its lower case (no compatibility forms, marks or
     * ignorables among its characters): no call into utf8proc. */
    if (ascii_lower(s, len, out))
        return true;
    utf8proc_uint8_t *folded = NULL;
    utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len, &folded,
                                      UTF8PROC_COMPAT | UTF8PROC_DECOMPOSE | UTF8PROC_CASEFOLD |
                                          UTF8PROC_STRIPMARK | UTF8PROC_IGNORE);
    if (n < 0)
        return false;
    buf_add(out, folded, (size_t)n);
    free(folded);
    return true;
}

bool text_has_space(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        size_t n = decode(p + i, len - i, &cp);
        if (!n)
            return false;
        if (is_space(cp))
            return true;
        i += n;
    }
    return false;
}

bool text_casefold(const char *s, size_t len, struct buf *out)
{
    if (ascii_lower(s, len, out))
        return true;
    utf8proc_uint8_t *folded = NULL;
    utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len, &folded,
                                      UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD);
    if (n < 0)
        return false;
    buf_add(out, folded, (size_t)n);
    free(folded);
    return true;
}
