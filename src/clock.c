/* clock.c — wall-clock and monotonic time; see include/clock.h. */
#include "clock.h"

#include <stdint.h>
#include <string.h>
#include <time.h>

int64_t clock_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t clock_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void digits(char *at, unsigned v, int n)
{
    while (n--) {
        at[n] = (char)('0' + v % 10);
        v /= 10;
    }
}

/* The proleptic Gregorian date of a day count from 1970-01-01 (the
 * well-known era arithmetic: 400-year eras of 146097 days). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* By hand rather than gmtime_r + strftime + snprintf: every participant
 * served carries two of these, so it is on the read path. */
static void format_iso(int64_t ms, char out[ISO_TIME_LEN + 1]);

/* The last two instants formatted, in this process: a record's createdAt
 * and updatedAt, alternating over a group's participants, are mostly the
 * same two (an import's). */
static struct {
    int64_t ms;
    char text[ISO_TIME_LEN + 1];
} memo[2] = {{INT64_MIN, ""}, {INT64_MIN, ""}};
static unsigned memo_next;

void clock_format_iso(int64_t ms, char out[ISO_TIME_LEN + 1])
{
    for (int i = 0; i < 2; i++) {
        if (memo[i].ms == ms) {
            memcpy(out, memo[i].text, ISO_TIME_LEN + 1);
            return;
        }
    }
    format_iso(ms, out);
    memo[memo_next].ms = ms;
    memcpy(memo[memo_next].text, out, ISO_TIME_LEN + 1);
    memo_next ^= 1;
}

static void format_iso(int64_t ms, char out[ISO_TIME_LEN + 1])
{
    /* The date of the last day formatted is kept: instants of one day share it. */
    static int64_t last_day = INT64_MIN;
    static char date[11];
    int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
    unsigned milli = (unsigned)(ms - secs * 1000);
    int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    unsigned sod = (unsigned)(secs - days * 86400);
    if (days != last_day) {
        int64_t y;
        unsigned m, d;
        civil_from_days(days, &y, &m, &d);
        if (y < 0 || y > 9999)
            y = y < 0 ? 0 : 9999; /* outside what the format can say */
        memcpy(date, "0000-00-00T", 11);
        digits(date, (unsigned)y, 4);
        digits(date + 5, m, 2);
        digits(date + 8, d, 2);
        last_day = days;
    }
    memcpy(out, date, 11);
    unsigned h = sod / 3600, mi = sod / 60 % 60, se = sod % 60;
    out[11] = (char)('0' + h / 10);
    out[12] = (char)('0' + h % 10);
    out[13] = ':';
    out[14] = (char)('0' + mi / 10);
    out[15] = (char)('0' + mi % 10);
    out[16] = ':';
    out[17] = (char)('0' + se / 10);
    out[18] = (char)('0' + se % 10);
    out[19] = '.';
    out[20] = (char)('0' + milli / 100);
    out[21] = (char)('0' + milli / 10 % 10);
    out[22] = (char)('0' + milli % 10);
    out[23] = 'Z';
    out[ISO_TIME_LEN] = '\0';
}
