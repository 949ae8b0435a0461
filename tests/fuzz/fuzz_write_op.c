/* libFuzzer harness: a write operation's bytes, as the writer reads them from a
 * worker (write_op.c).  Whatever the bytes, decoding never crashes or leaks, and
 * bytes that decode are canonical: the operation encodes to them again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "write_op.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct write_op op;
    if (!write_op_decode((const char *)data, size, &op))
        return 0;
    struct buf again = BUF_INIT;
    write_op_encode(&op, &again);
    if (again.len != size || memcmp(again.data, data, size) != 0)
        abort();
    buf_free(&again);
    write_op_free(&op);
    return 0;
}
