/*
 * tenant_stream.h — the frames of a tenant stream (lmdb-schema/tenant-
 * stream.md), shared by its writer (store_tenant_send.c) and its reader
 * (store_tenant_receive.c) only.
 */
#ifndef GROUPD_TENANT_STREAM_H
#define GROUPD_TENANT_STREAM_H

#define TENANT_MAGIC "GROUPD-TENANT\n"
#define TENANT_MAGIC_LEN 14
#define TENANT_HEADER_LEN (TENANT_MAGIC_LEN + 12) /* magic, version, top, shard */
#define TENANT_FRAME_MAX ((uint32_t)64 << 20)

enum tenant_frame {
    F_KEY = 1,         /* u64 key id, the apikeys value (after the cut only) */
    F_GROUP = 2,       /* the groups value (its id is in it) */
    F_PARTICIPANT = 3, /* u64 group, u64 participant, the participants value */
    F_EVENT = 4,       /* u64 group, u64 event, the events value */
    F_FEED = 5,        /* the changes key (12 bytes), the changes value */
    F_COUNTER = 6,     /* u8 which (enum tenant_counter), u64 value */
    F_GONE = 7,        /* u64 group id: the receiver's copy of it goes */
    F_CAUGHT_UP = 8,   /* u64 seq: what came so far is the tenant at that seq */
    F_END = 9,         /* u64 frames before it, u64 FNV-1a of every byte before it */
    F_CUT = 10,        /* u64 ms: the source froze the tenant; the last changes follow */
};

enum tenant_counter { C_CHANGE_SEQ = 1, C_TOP_REV = 2, C_FEED_PRUNED = 3 };

/* Meta's names of the tenant's counters, by enum tenant_counter. */
extern const char *const tenant_counter_names[4];

#endif
