/*
 * event.c — the event model: validation and the JSON form; see
 * include/event.h.
 *
 * Weeks are a 64-bit set, so "duplicates collapse, stored sorted" is what
 * the representation does by itself.  Times are kept as minutes after
 * midnight and always written HH:mm.
 */
#include "event.h"

#include "integration.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "jsonin.h"

static const char *const day_names[7] = {"monday", "tuesday",  "wednesday", "thursday",
                                         "friday", "saturday", "sunday"};

/* 1..7 from a number, a numeric string or a day name; 0 when it is none. */
static int day_of(struct json_object *v)
{
    if (json_object_is_type(v, json_type_int)) {
        int64_t n = json_object_get_int64(v);
        return n >= 1 && n <= 7 ? (int)n : 0;
    }
    if (!json_object_is_type(v, json_type_string))
        return 0;
    const char *s = json_object_get_string(v);
    size_t len = (size_t)json_object_get_string_len(v);
    while (len && (*s == ' ' || *s == '\t'))
        s++, len--;
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    if (len == 1 && s[0] >= '1' && s[0] <= '7')
        return s[0] - '0';
    for (int i = 0; i < 7; i++)
        if (strlen(day_names[i]) == len && strncasecmp(s, day_names[i], len) == 0)
            return i + 1;
    return 0;
}

static void parse_day(struct json_object *body, struct event *ev, struct problem *p)
{
    struct json_object *v;
    if (!json_object_object_get_ex(body, "day", &v) || !v)
        return;
    ev->day = day_of(v);
    if (!ev->day)
        problem_invalid(p, "day",
                        "must be 1 to 7 (1 = Monday), as a number, a numeric string "
                        "or an English day name");
}

/* "H:mm" or "HH:mm", 00:00 to 23:59, into minutes; -1 when it is not. */
static int minutes_of(const char *s, size_t len)
{
    if (len != 4 && len != 5)
        return -1;
    size_t colon = len - 3;
    if (s[colon] != ':')
        return -1;
    for (size_t i = 0; i < len; i++)
        if (i != colon && (s[i] < '0' || s[i] > '9'))
            return -1;
    int h = s[0] - '0';
    if (colon == 2)
        h = h * 10 + (s[1] - '0');
    int m = (s[colon + 1] - '0') * 10 + (s[colon + 2] - '0');
    return h <= 23 && m <= 59 ? h * 60 + m : -1;
}

static int parse_time(struct json_object *body, const char *member, struct problem *p)
{
    struct json_object *v;
    if (!json_object_object_get_ex(body, member, &v) || !v)
        return -1;
    int t = json_object_is_type(v, json_type_string)
                ? minutes_of(json_object_get_string(v), (size_t)json_object_get_string_len(v))
                : -1;
    if (t < 0)
        problem_invalid(p, member, "must be a time H:mm or HH:mm from 00:00 to 23:59");
    return t;
}

static void parse_weeks(struct json_object *body, struct event *ev, bool *given, struct problem *p)
{
    struct json_object *v;
    *given = false;
    if (!json_object_object_get_ex(body, "weeks", &v) || !v)
        return;
    if (!json_object_is_type(v, json_type_array)) {
        problem_invalid(p, "weeks", "must be an array of week numbers 1 to %d", EVENT_WEEK_MAX);
        return;
    }
    *given = true;
    size_t n = json_object_array_length(v);
    for (size_t i = 0; i < n; i++) {
        struct json_object *w = json_object_array_get_idx(v, i);
        int64_t week = json_object_is_type(w, json_type_int) ? json_object_get_int64(w) : 0;
        if (week < 1 || week > EVENT_WEEK_MAX) {
            char f[32];
            snprintf(f, sizeof f, "weeks[%zu]", i);
            problem_invalid(p, f, "must be a week number 1 to %d", EVENT_WEEK_MAX);
            return;
        }
        ev->weeks |= (uint64_t)1 << week;
    }
}

static void parse_tutors(struct json_object *body, struct event *ev, struct problem *p)
{
    struct json_object *v;
    if (!json_object_object_get_ex(body, "tutors", &v) || !v)
        return;
    if (!json_object_is_type(v, json_type_array)) {
        problem_invalid(p, "tutors", "must be an array of strings");
        return;
    }
    size_t n = json_object_array_length(v);
    if (n > EVENT_TUTORS_MAX) {
        /* Refused before any entry is read. */
        problem_invalid(p, "tutors", "must have at most %d entries", EVENT_TUTORS_MAX);
        return;
    }
    ev->has_tutors = true;
    ev->tutors = calloc(n ? n : 1, sizeof *ev->tutors);
    if (!ev->tutors)
        abort();
    for (size_t i = 0; i < n; i++) {
        struct json_object *t = json_object_array_get_idx(v, i);
        char f[32];
        snprintf(f, sizeof f, "tutors[%zu]", i);
        char *s = NULL;
        if (!json_object_is_type(t, json_type_string))
            problem_invalid(p, f, "must be a string");
        else if (jsonin_check_string(t, f, 1, EVENT_TUTOR_MAX, &s, p))
            ev->tutors[ev->n_tutors++] = s;
    }
}

static void parse_location(struct json_object *body, struct event *ev, struct problem *p)
{
    struct json_object *v;
    if (!json_object_object_get_ex(body, "location", &v) || !v)
        return;
    if (json_object_is_type(v, json_type_string)) {
        jsonin_check_string(v, "location", 1, EVENT_LOCATION_MAX, &ev->location, p);
        return;
    }
    if (!json_object_is_type(v, json_type_object)) {
        problem_invalid(p, "location", "must be a string or an object {\"name\": string}");
        return;
    }
    if (jsonin_string(v, "name", "location.name", 1, EVENT_LOCATION_MAX, &ev->location, p) !=
            JSONIN_VALUE &&
        !ev->location && !problem_any(p))
        problem_invalid(p, "location.name", "is required");
}

bool event_parse(struct json_object *body, struct event *ev, struct problem *p)
{
    memset(ev, 0, sizeof *ev);
    ev->start = ev->end = -1;
    size_t before = p->entries;
    jsonin_string(body, "title", "title", 0, EVENT_TITLE_MAX, &ev->title, p);
    parse_day(body, ev, p);
    ev->start = parse_time(body, "startTime", p);
    ev->end = parse_time(body, "endTime", p);
    if (ev->start >= 0 && ev->end >= 0 && ev->end <= ev->start)
        problem_invalid(p, "endTime", "must be after startTime");
    bool weeks_given;
    parse_weeks(body, ev, &weeks_given, p);
    parse_tutors(body, ev, p);
    parse_location(body, ev, p);
    if (!ev->has_tutors && p->entries == before) {
        /* The seed: the schedule is required only when no tutor list is given. */
        if (!ev->day)
            problem_invalid(p, "day", "is required unless tutors are given");
        if (ev->start < 0)
            problem_invalid(p, "startTime", "is required unless tutors are given");
        if (ev->end < 0)
            problem_invalid(p, "endTime", "is required unless tutors are given");
        if (!weeks_given)
            problem_invalid(p, "weeks", "is required unless tutors are given");
    }
    return p->entries == before;
}

static void add_time(struct buf *out, int t)
{
    if (t < 0) {
        buf_adds(out, "null");
        return;
    }
    char s[8] = {'"',
                 (char)('0' + t / 600),
                 (char)('0' + t / 60 % 10),
                 ':',
                 (char)('0' + t % 60 / 10),
                 (char)('0' + t % 10),
                 '"',
                 0};
    buf_adds(out, s);
}

static void add_string_or_null(struct buf *out, const char *s)
{
    if (s)
        buf_add_json_string(out, s, strlen(s));
    else
        buf_adds(out, "null");
}

static void add_iso(struct buf *out, int64_t ms)
{
    char t[ISO_TIME_LEN + 1];
    clock_format_iso(ms, t);
    buf_addc(out, '"');
    buf_add(out, t, ISO_TIME_LEN);
    buf_addc(out, '"');
}

void event_write_json(const struct event *ev, struct buf *out)
{
    buf_adds(out, "{\"id\":");
    buf_add_u64(out, ev->id);
    buf_add_member(out, "group");
    buf_add_u64(out, ev->group);
    buf_add_member(out, "title");
    add_string_or_null(out, ev->title);
    buf_add_member(out, "day");
    if (ev->day)
        buf_add_u64(out, (uint64_t)ev->day);
    else
        buf_adds(out, "null");
    buf_add_member(out, "startTime");
    add_time(out, ev->start);
    buf_add_member(out, "endTime");
    add_time(out, ev->end);
    buf_add_member(out, "weeks");
    buf_addc(out, '[');
    bool first = true;
    for (int w = 1; w <= EVENT_WEEK_MAX; w++) {
        if (!(ev->weeks & ((uint64_t)1 << w)))
            continue;
        if (!first)
            buf_addc(out, ',');
        first = false;
        buf_add_u64(out, (uint64_t)w);
    }
    buf_addc(out, ']');
    buf_add_member(out, "tutors");
    buf_addc(out, '[');
    for (size_t i = 0; i < ev->n_tutors; i++) {
        if (i)
            buf_addc(out, ',');
        buf_add_json_string(out, ev->tutors[i], strlen(ev->tutors[i]));
    }
    buf_addc(out, ']');
    buf_add_member(out, "location");
    if (ev->location) {
        buf_adds(out, "{\"name\":");
        buf_add_json_string(out, ev->location, strlen(ev->location));
        buf_addc(out, '}');
    } else {
        buf_adds(out, "null");
    }
    buf_add_member(out, "createdAt");
    add_iso(out, ev->created_at);
    buf_add_member(out, "updatedAt");
    add_iso(out, ev->updated_at);
    buf_addc(out, '}');
}

static bool str_same(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

bool event_equal(const struct event *a, const struct event *b)
{
    if (a->id != b->id || a->group != b->group || a->day != b->day || a->start != b->start ||
        a->end != b->end || a->weeks != b->weeks || a->n_tutors != b->n_tutors ||
        a->created_at != b->created_at || a->updated_at != b->updated_at ||
        !str_same(a->title, b->title) || !str_same(a->location, b->location))
        return false;
    for (size_t i = 0; i < a->n_tutors; i++)
        if (strcmp(a->tutors[i], b->tutors[i]) != 0)
            return false;
    return true;
}

void event_copy(struct event *dst, const struct event *src)
{
    *dst = *src;
    dst->title = xstrdup(src->title);
    dst->location = xstrdup(src->location);
    dst->tutors = NULL;
    if (src->n_tutors) {
        dst->tutors = malloc(src->n_tutors * sizeof *dst->tutors);
        if (!dst->tutors)
            abort();
        for (size_t i = 0; i < src->n_tutors; i++)
            dst->tutors[i] = xstrdup(src->tutors[i]);
    }
}

void event_free(struct event *ev)
{
    free(ev->title);
    free(ev->location);
    for (size_t i = 0; i < ev->n_tutors; i++)
        free(ev->tutors[i]);
    free(ev->tutors);
    ev->title = ev->location = NULL;
    ev->tutors = NULL;
    ev->n_tutors = 0;
}
