/*
 * event.h — the event resource (API.md §3 "Event", §6): a scheduled
 * session of a group, from the small-group events seed.
 *
 * event_parse checks a POST or PUT body (PUT replaces the whole event, so
 * both read the same way) and collects every problem; the input forms the
 * seed allows (day as a number, a numeric string or an English day name;
 * times as H:mm or HH:mm; location as a string or {name}) become one
 * stored form, which event_write_json serves.
 */
#ifndef GROUPD_EVENT_H
#define GROUPD_EVENT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "problem.h"

#define EVENT_TITLE_MAX 255
#define EVENT_TUTORS_MAX 100
#define EVENT_TUTOR_MAX 255
#define EVENT_LOCATION_MAX 255
#define EVENT_WEEK_MAX 53

struct event {
    uint64_t id;
    uint64_t group;
    char *title;    /* NULL when absent */
    int day;        /* 1 (Monday) to 7; 0 when absent */
    int start, end; /* minutes after midnight; -1 when absent */
    uint64_t weeks; /* bit w set for week w (1..53) */
    char **tutors;  /* in the order given */
    size_t n_tutors;
    bool has_tutors; /* a tutors list was given (it waives the schedule) */
    char *location;  /* NULL when absent */
    int64_t created_at, updated_at;
};

/* Reads a body into ev (zeroed first; id, group and times are the
 * caller's).  Returns false when problems were added to p. */
bool event_parse(struct json_object *body, struct event *ev, struct problem *p);
/* The served JSON object. */
void event_write_json(const struct event *ev, struct buf *out);
/* Same values (ids and times included). */
bool event_equal(const struct event *a, const struct event *b);
/* A deep copy of src (free it with event_free). */
void event_copy(struct event *dst, const struct event *src);
void event_free(struct event *ev);

#endif
