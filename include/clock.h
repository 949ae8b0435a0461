/*
 * clock.h — wall-clock time in the contract's form.
 *
 * Timestamps are kept as milliseconds since the Unix epoch (UTC) and shown
 * as ISO 8601 with milliseconds: 2021-04-08T11:10:21.000Z.
 */
#ifndef GROUPD_CLOCK_H
#define GROUPD_CLOCK_H

#include <stdint.h>

#define ISO_TIME_LEN 24 /* "2021-04-08T11:10:21.000Z" */

int64_t clock_now_ms(void);
/* Monotonic microseconds, for measuring request durations. */
int64_t clock_mono_us(void);
/* Writes ISO_TIME_LEN characters plus NUL into out. */
void clock_format_iso(int64_t ms, char out[ISO_TIME_LEN + 1]);

#endif
