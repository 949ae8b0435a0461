/* libFuzzer harness: a roster export's zip (roster_files.c, libarchive) and
 * the reading of its manifest and CSV files (oneroster_read.c).  The bound
 * on what the zip may inflate to is small, so a bomb is refused early. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oneroster_private.h"
#include "roster_files.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct roster_files rf;
    char err[320];
    if (roster_files_from_zip((const char *)data, size, 1 << 20, &rf, err, sizeof err) !=
        ROSTER_FILES_OK)
        return 0;
    for (int i = 0; i < ROSTER_N_FILES; i++)
        if (rf.f[i].data && rf.f[i].data[rf.f[i].len] != '\0')
            abort(); /* every file ends with its NUL */
    struct ro_export x;
    struct problem p;
    problem_init(&p);
    if (ro_read(&rf, &x, &p)) {
        for (int k = 0; k < RO_N_TABLES; k++) {
            const struct ro_table *t = &x.t[k];
            for (size_t i = 0; i < t->n_by_id; i++) {
                size_t len;
                const char *id = ro_cell(t, &t->rows[t->by_id[i]], 0, &len);
                if (ro_find(t, id, len) != &t->rows[t->by_id[i]])
                    abort(); /* every sourcedId kept is found, as itself */
            }
        }
    }
    ro_free(&x);
    problem_free(&p);
    roster_files_free(&rf);
    return 0;
}
