/*
 * store_codec.c — the bytes of keys and records, the store's ground floor:
 * no LMDB calls, nothing above it.
 *
 * Group records (lmdb-schema/groups.md): a 60-byte big-endian header with
 * everything a filter or sort needs, then the externalId and name bytes,
 * then the group's JSON exactly as it is served.
 *
 * externalId keys: LMDB keys are at most 511 bytes and an externalId may
 * be 255 code points (up to 1020 bytes), so a long one is keyed by its
 * first EXTID_PREFIX bytes, a 0xFF byte (never present in UTF-8) and the
 * SHA-256 of the whole value.
 *
 * Feed records (lmdb-schema/changes.md): one per call of the write door,
 * key top + first seq, holding that call's consecutive entries (they share
 * the group, its organisation and the time), each a type byte and, for
 * participant and event entries, a varint id.  An import writes one
 * record per group, not one per participant: a few bytes an entry.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "store_private.h"

#define EXTID_PREFIX 443

void store_key_text(struct buf *key, const char *s, size_t len)
{
    if (len <= EXTID_PREFIX + 1 + crypto_hash_sha256_BYTES) {
        buf_add(key, s, len);
        return;
    }
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, (const unsigned char *)s, len);
    buf_add(key, s, EXTID_PREFIX);
    buf_addc(key, (char)0xFF);
    buf_add(key, digest, sizeof digest);
}

/* ---- group records ---- */

#define HEADER_LEN 60
#define RECORD_FORMAT 1

void store_extid_key(uint32_t top, const char *ext, size_t len, struct buf *key)
{
    buf_add_be32(key, top);
    store_key_text(key, ext, len);
}

enum group_status group_record_status(const struct group_record *r)
{
    if (r->flags & GROUP_FLAG_DELETED)
        return GROUP_DELETED;
    return (r->flags & GROUP_FLAG_ARCHIVED) ? GROUP_ARCHIVED : GROUP_ACTIVE;
}

int store_group_decode(const MDB_val *val, struct group_record *r)
{
    const unsigned char *p = val->mv_data;
    if (val->mv_size < HEADER_LEN || p[0] != RECORD_FORMAT)
        return MDB_CORRUPTED;
    r->flags = p[1];
    r->external_id_len = (size_t)p[2] << 8 | p[3];
    r->name_len = (size_t)p[4] << 8 | p[5];
    r->organisation = be32_get(p + 8);
    r->top_organisation = be32_get(p + 12);
    r->id = be64_get(p + 16);
    r->created_at = (int64_t)be64_get(p + 24);
    r->updated_at = (int64_t)be64_get(p + 32);
    r->rev = be64_get(p + 40);
    r->total_participants = be32_get(p + 48);
    r->school_year = (int32_t)be32_get(p + 52);
    r->json_len = be32_get(p + 56);
    if (HEADER_LEN + r->external_id_len + r->name_len + r->json_len != val->mv_size)
        return MDB_CORRUPTED;
    r->external_id = (const char *)p + HEADER_LEN;
    r->name = r->external_id + r->external_id_len;
    r->json = r->name + r->name_len;
    return 0;
}

void store_group_encode(const struct group *g, uint64_t rev, struct buf *out)
{
    struct buf json = BUF_INIT;
    group_write_json(g, &json);
    size_t ext_len = g->external_id ? strlen(g->external_id) : 0;
    size_t name_len = strlen(g->name);
    unsigned char h[HEADER_LEN] = {0};
    h[0] = RECORD_FORMAT;
    h[1] = (unsigned char)((g->archived ? GROUP_FLAG_ARCHIVED : 0) |
                           (g->deleted ? GROUP_FLAG_DELETED : 0) |
                           (g->import_lock ? GROUP_FLAG_IMPORT_LOCK : 0));
    h[2] = (unsigned char)(ext_len >> 8);
    h[3] = (unsigned char)ext_len;
    h[4] = (unsigned char)(name_len >> 8);
    h[5] = (unsigned char)name_len;
    be32_put(h + 8, g->organisation);
    be32_put(h + 12, g->top_organisation);
    be64_put(h + 16, g->id);
    be64_put(h + 24, (uint64_t)g->created_at);
    be64_put(h + 32, (uint64_t)g->updated_at);
    be64_put(h + 40, rev);
    be32_put(h + 48, g->total_participants);
    be32_put(h + 52, (uint32_t)g->school_year);
    be32_put(h + 56, (uint32_t)json.len);
    buf_add(out, h, sizeof h);
    buf_add(out, g->external_id ? g->external_id : "", ext_len);
    buf_add(out, g->name, name_len);
    buf_add(out, json.data, json.len);
    buf_free(&json);
}

/* ---- feed records ---- */

void store_feed_key(uint32_t top, uint64_t seq, unsigned char key[STORE_FEED_KEY_LEN])
{
    be32_put(key, top);
    be64_put(key + 4, seq);
}

static void put_varint(struct buf *b, uint64_t v)
{
    while (v >= 0x80) {
        buf_addc(b, (char)(v | 0x80));
        v >>= 7;
    }
    buf_addc(b, (char)v);
}

static bool get_varint(const unsigned char **p, const unsigned char *end, uint64_t *v)
{
    *v = 0;
    for (unsigned shift = 0; *p < end && shift < 64; shift += 7) {
        unsigned char b = *(*p)++;
        *v |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80))
            return true;
    }
    return false;
}

#define FEED_FIXED 10 /* organisation, 48-bit time */

void store_feed_encode(uint32_t org, int64_t at, uint64_t group, unsigned what,
                       const struct change_note *v, size_t n, struct buf *out)
{
    unsigned char h[FEED_FIXED];
    be32_put(h, org);
    for (int i = 0; i < 6; i++)
        h[4 + i] = (unsigned char)((uint64_t)at >> (8 * (5 - i)));
    buf_add(out, h, sizeof h);
    put_varint(out, group);
    put_varint(out, n + (what ? 1 : 0));
    if (what)
        buf_addc(out, (char)what);
    for (size_t i = 0; i < n; i++) {
        buf_addc(out, (char)v[i].type);
        if (change_type_in_group(v[i].type))
            put_varint(out, v[i].id);
    }
}

int store_feed_open(const MDB_val *key, const MDB_val *val, struct feed_record *r)
{
    const unsigned char *p = val->mv_data;
    if (key->mv_size != STORE_FEED_KEY_LEN || val->mv_size < FEED_FIXED + 2)
        return MDB_CORRUPTED;
    r->top = be32_get(key->mv_data);
    r->first = be64_get((const unsigned char *)key->mv_data + 4);
    r->organisation = be32_get(p);
    uint64_t at = 0;
    for (int i = 0; i < 6; i++)
        at = at << 8 | p[4 + i];
    r->at = (int64_t)at;
    r->p = p + FEED_FIXED;
    r->end = p + val->mv_size;
    if (!get_varint(&r->p, r->end, &r->group) || !get_varint(&r->p, r->end, &r->n) || !r->n ||
        r->n > (uint64_t)(r->end - r->p) || r->first + r->n < r->first)
        return MDB_CORRUPTED;
    r->next = 0;
    return 0;
}

int store_feed_next(struct feed_record *r, struct change_entry *e)
{
    if (r->next == r->n)
        return r->p == r->end ? MDB_NOTFOUND : MDB_CORRUPTED;
    if (r->p == r->end || !change_type_name(*r->p))
        return MDB_CORRUPTED;
    e->seq = r->first + r->next++;
    e->type = *r->p++;
    e->organisation = r->organisation;
    e->group = e->id = r->group;
    e->at = r->at;
    if (change_type_in_group(e->type) && !get_varint(&r->p, r->end, &e->id))
        return MDB_CORRUPTED;
    return 0;
}

/* ---- change types ---- */

static const char *const type_names[CHANGE_TYPE_MAX + 1] = {
    NULL,
    "group.created",
    "group.updated",
    "group.archived",
    "group.unarchived",
    "group.deleted",
    "group.restored",
    "group.purged",
    "participant.added",
    "participant.updated",
    "participant.removed",
    "event.created",
    "event.updated",
    "event.removed",
};

const char *change_type_name(unsigned type)
{
    return type <= CHANGE_TYPE_MAX ? type_names[type] : NULL;
}

bool change_type_in_group(unsigned type)
{
    return type >= CHANGE_PARTICIPANT_ADDED && type <= CHANGE_TYPE_MAX;
}
