/* libFuzzer harness: UTF-8 checks, folding and word splitting (text.c,
 * words.c), and e-mail rules (email.c) on the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "email.h"
#include "text.h"
#include "words.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    bool valid = text_valid_utf8(s, size);
    size_t cut = text_utf8_prefix(s, size, size / 2);
    if (cut > size / 2 + 1 && cut != size)
        abort();
    if (!valid)
        return 0;
    size_t len = size;
    const char *t = text_trim(s, &len);
    if (t < s || t + len > s + size)
        abort();
    text_has_control(s, size);
    struct buf out = BUF_INIT;
    text_fold(s, size, &out);
    buf_reset(&out);
    text_casefold(s, size, &out);
    buf_free(&out);
    struct words w = {0}, q = {0};
    words_add(&w, s, size);
    words_add(&q, s, size / 2);
    words_drop_implied(&q);
    words_match(&q, &w);
    words_free(&w);
    words_free(&q);
    return 0;
}
