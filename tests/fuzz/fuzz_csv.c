/* libFuzzer harness: the in-place CSV reader and its header (csv.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    struct csv c;
    csv_open(&c, text, size);
    static const char *const names[] = {"groupId", "email", "name"};
    int col_of[3];
    struct problem p;
    problem_init(&p);
    if (csv_read_header(&c, names, 3, 1, col_of, &p)) {
        struct csv_field f[CSV_MAX_FIELDS];
        size_t n;
        long line;
        const char *error;
        for (int i = 0; i < 1000000; i++) {
            enum csv_status st = csv_next(&c, f, CSV_MAX_FIELDS, &n, &line, &error);
            if (st == CSV_END || st == CSV_FATAL)
                break;
            for (size_t k = 0; st == CSV_RECORD && k < n && k < CSV_MAX_FIELDS; k++)
                if (f[k].s < text || f[k].s + f[k].len > text + size)
                    abort(); /* a field outside the input */
            csv_cell_given(n ? f[0].s : text, n ? f[0].len : 0);
        }
    }
    problem_free(&p);
    free(text);
    return 0;
}
