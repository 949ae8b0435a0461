/* libFuzzer harness: query strings (query.c) and every typed reader. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *qs = malloc(size + 1);
    if (!qs)
        return 0;
    memcpy(qs, data, size);
    qs[size] = '\0';
    struct query q;
    query_parse(&q, qs);
    struct problem p;
    problem_init(&p);
    static const char *const names[] = {"q", "status", "limit", "external", "sort", "since"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        uint64_t v;
        bool b;
        size_t len;
        query_get(&q, names[i], &p);
        query_get_text(&q, names[i], &len, &p);
        query_uint(&q, names[i], 1000, &v, &p);
        query_bool(&q, names[i], &b, &p);
        size_t at = 0;
        while (query_next(&q, names[i], &at))
            ;
    }
    problem_free(&p);
    query_free(&q);
    free(qs);
    return 0;
}
