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
 * Feed entries (lmdb-schema/changes.md): key top + seq; the value is small
 * because an import writes one per participant: type, organisation, a
 * 48-bit time and varint ids, the object's id only when it is not the
 * group itself.
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

/* ---- feed entries ---- */

void store_feed_key(uint32_t top, uint64_t seq, unsigned char key[STORE_FEED_KEY_LEN])
{
    be32_put(key, top);
    be64_put(key + 4, seq);
}

static size_t put_varint(unsigned char *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (unsigned char)v;
    return n;
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

#define FEED_FIXED 11 /* type, organisation, 48-bit time */

size_t store_feed_encode(const struct change_entry *e, unsigned char val[STORE_FEED_VAL_MAX])
{
    val[0] = (unsigned char)e->type;
    be32_put(val + 1, e->organisation);
    uint64_t at = (uint64_t)e->at;
    for (int i = 0; i < 6; i++)
        val[5 + i] = (unsigned char)(at >> (8 * (5 - i)));
    size_t n = FEED_FIXED + put_varint(val + FEED_FIXED, e->group);
    if (change_type_in_group(e->type))
        n += put_varint(val + n, e->id);
    return n;
}

int store_feed_decode(const MDB_val *key, const MDB_val *val, uint32_t *top, struct change_entry *e)
{
    const unsigned char *p = val->mv_data, *end = p + val->mv_size;
    if (key->mv_size != STORE_FEED_KEY_LEN || val->mv_size < FEED_FIXED + 1 ||
        !change_type_name(p[0]))
        return MDB_CORRUPTED;
    *top = be32_get(key->mv_data);
    e->seq = be64_get((const unsigned char *)key->mv_data + 4);
    e->type = p[0];
    e->organisation = be32_get(p + 1);
    uint64_t at = 0;
    for (int i = 0; i < 6; i++)
        at = at << 8 | p[5 + i];
    e->at = (int64_t)at;
    p += FEED_FIXED;
    if (!get_varint(&p, end, &e->group))
        return MDB_CORRUPTED;
    e->id = e->group;
    if (change_type_in_group(e->type) && !get_varint(&p, end, &e->id))
        return MDB_CORRUPTED;
    return p == end ? 0 : MDB_CORRUPTED;
}
