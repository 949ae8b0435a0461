/* libFuzzer harness: the strict JSON body parser with group, participant
 * and event validation (jsonin.c, group.c, participant.c, event.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "group.h"
#include "jsonin.h"
#include "participant.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct problem p;
    problem_init(&p);
    struct json_object *o = jsonin_parse((const char *)data, size, &p);
    if (o) {
        struct group_patch gp;
        group_patch_parse(o, true, &gp, &p);
        struct group g;
        memset(&g, 0, sizeof g);
        group_init_new(&g, &gp, 1, 1, "key-1", 0);
        struct buf json = BUF_INIT;
        group_write_json(&g, &json);
        struct group back;
        if (gp.present & GM_NAME) {
            if (!group_read_json(json.data, json.len, &back))
                abort(); /* what we write we must read */
            group_free(&back);
        }
        group_patch_changes_json(&gp, json.data, json.len);
        buf_free(&json);
        group_free(&g);
        group_patch_free(&gp);
        struct participant_patch pp;
        participant_patch_parse(o, "", PM_EMAIL, &pp, &p);
        participant_patch_free(&pp);
        struct json_object *list;
        if (json_object_object_get_ex(o, "participants", &list) && list) {
            struct participant_patch *v = NULL;
            size_t n = 0;
            participant_list_parse(list, "participants", PM_EMAIL, &v, &n, &p);
            participant_list_free(v, n);
        }
        struct event ev;
        if (event_parse(o, &ev, &p)) {
            struct buf out = BUF_INIT;
            event_write_json(&ev, &out);
            buf_free(&out);
        }
        event_free(&ev);
        json_object_put(o);
    }
    if (problem_any(&p)) {
        struct buf err = BUF_INIT;
        problem_render(&p, &err);
        buf_free(&err);
    }
    problem_free(&p);
    return 0;
}
