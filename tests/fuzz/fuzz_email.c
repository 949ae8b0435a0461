/* libFuzzer harness: e-mail validation and its comparison form (email.c). */
#include <stdint.h>
#include <stdlib.h>

#include "email.h"
#include "text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    if (!text_valid_utf8(s, size))
        return 0;
    const char *why = email_problem(s, size);
    struct buf k = BUF_INIT;
    if (!why)
        email_key(s, size, &k);
    buf_free(&k);
    return 0;
}
