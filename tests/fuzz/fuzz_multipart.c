/* libFuzzer harness: multipart/form-data (multipart.c).  The first line of
 * the input is the Content-Type header, the rest the body. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "multipart.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t ct_len = nl ? (size_t)(nl - data) : size;
    char *ct = malloc(ct_len + 1), *body = malloc(size - ct_len + 1);
    if (!ct || !body)
        abort();
    memcpy(ct, data, ct_len);
    ct[ct_len] = '\0';
    size_t body_len = nl ? size - ct_len - 1 : 0;
    memcpy(body, nl ? nl + 1 : data, body_len);
    char *part = NULL;
    size_t part_len = 0;
    if (!multipart_find(ct, body, body_len, "file", &part, &part_len) &&
        (part < body || part + part_len > body + body_len))
        abort(); /* the part must lie inside the body */
    free(ct);
    free(body);
    return 0;
}
