/*
 * group_render.h — the full form of one group (GET /group/:id, groupctl
 * export): its stored JSON with "participants" and "events" added.
 */
#ifndef GROUPD_GROUP_RENDER_H
#define GROUPD_GROUP_RENDER_H

#include "buf.h"
#include "store.h"

/* Appends the group whose served JSON is json[0..len) (a record's, or
 * group_write_json's) with its participants and then its events, each in
 * id order, inserted before the closing brace.  Returns 0 or the LMDB
 * error of reading them (out then holds a partial form). */
int group_render_full(struct store *s, MDB_txn *txn, const char *json, size_t len, uint64_t gid,
                      struct buf *out);

#endif
