/*
 * store_group.c — the groups database and the externalId index.
 *
 * Record format (see lmdb-schema/groups.md): a 60-byte big-endian header
 * with everything a filter or sort needs, then the externalId and name
 * bytes, then the group's JSON exactly as it is served.  Reads outnumber
 * writes by orders of magnitude, so the served form is computed once per
 * write; a read is a B-tree lookup and a memcpy, and a list filters on
 * the header without parsing anything.
 *
 * externalId index keys are topOrganisation (4 bytes BE) followed by the
 * externalId's bytes.  LMDB keys are at most 511 bytes and an externalId
 * may be 255 code points (up to 1020 bytes), so a long one is keyed by its
 * first EXTID_PREFIX bytes, a 0xFF byte (never present in UTF-8) and the
 * SHA-256 of the whole value.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "store.h"

#define HEADER_LEN 60
#define RECORD_FORMAT 1
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

static void extid_key(uint32_t top, const char *ext, size_t len, struct buf *key)
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

static int decode(const MDB_val *val, struct group_record *r)
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

static void encode(const struct group *g, uint64_t rev, struct buf *out)
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

int store_group_get(struct store *s, MDB_txn *txn, uint64_t id, struct group_record *out)
{
    unsigned char k[8];
    be64_put(k, id);
    MDB_val key = {8, k}, val;
    int rc = mdb_get(txn, s->groups, &key, &val);
    return rc ? rc : decode(&val, out);
}

int store_group_by_extid(struct store *s, MDB_txn *txn, uint32_t top, const char *ext, size_t len,
                         uint64_t *id)
{
    struct buf k = BUF_INIT;
    extid_key(top, ext, len, &k);
    MDB_val key = {k.len, k.data}, val;
    int rc = mdb_get(txn, s->group_extid, &key, &val);
    buf_free(&k);
    if (rc)
        return rc;
    if (val.mv_size != 8)
        return MDB_CORRUPTED;
    *id = be64_get(val.mv_data);
    return 0;
}

static bool same_extid(const struct group *a, const struct group *b)
{
    if (!a->external_id || !b->external_id)
        return a->external_id == b->external_id;
    return strcmp(a->external_id, b->external_id) == 0;
}

static int extid_del(struct store *s, MDB_txn *txn, const struct group *g)
{
    struct buf k = BUF_INIT;
    extid_key(g->top_organisation, g->external_id, strlen(g->external_id), &k);
    MDB_val key = {k.len, k.data};
    int rc = mdb_del(txn, s->group_extid, &key, NULL);
    buf_free(&k);
    return rc;
}

int store_group_put(struct store *s, MDB_txn *txn, const struct group *g, const struct group *old,
                    uint64_t rev)
{
    int rc = 0;
    if (old && old->external_id && !same_extid(g, old))
        rc = extid_del(s, txn, old);
    if (!rc && g->external_id && (!old || !same_extid(g, old))) {
        struct buf k = BUF_INIT;
        unsigned char idv[8];
        be64_put(idv, g->id);
        extid_key(g->top_organisation, g->external_id, strlen(g->external_id), &k);
        MDB_val key = {k.len, k.data}, val = {8, idv};
        rc = mdb_put(txn, s->group_extid, &key, &val, MDB_NOOVERWRITE);
        buf_free(&k);
    }
    if (rc)
        return rc;
    struct buf rec = BUF_INIT;
    encode(g, rev, &rec);
    unsigned char k[8];
    be64_put(k, g->id);
    MDB_val key = {8, k}, val = {rec.len, rec.data};
    rc = mdb_put(txn, s->groups, &key, &val, 0);
    buf_free(&rec);
    return rc ? rc : group_index(s, txn, old, g, rev);
}

int store_group_purge(struct store *s, MDB_txn *txn, const struct group *g, uint64_t rev)
{
    int rc = g->external_id ? extid_del(s, txn, g) : 0;
    if (!rc)
        rc = group_index(s, txn, g, NULL, rev);
    if (!rc)
        rc = store_participant_purge_group(s, txn, g->top_organisation, g->id);
    if (!rc) {
        unsigned char k[8];
        be64_put(k, g->id);
        MDB_val key = {8, k};
        rc = mdb_del(txn, s->groups, &key, NULL);
    }
    return rc;
}

void store_group_entries(struct store *s, const struct group *g, store_entry_fn *add, void *ctx)
{
    if (g->external_id) {
        struct buf k = BUF_INIT;
        unsigned char idv[8];
        be64_put(idv, g->id);
        extid_key(g->top_organisation, g->external_id, strlen(g->external_id), &k);
        add(ctx, s->group_extid, k.data, k.len, idv, 8);
        buf_free(&k);
    }
    group_index_entries(s, g, add, ctx);
}

int store_group_each(struct store *s, MDB_txn *txn,
                     int (*fn)(void *ctx, const struct group_record *r), void *ctx)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, s->groups, &cur);
    if (rc)
        return rc;
    MDB_val key, val;
    for (rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
        struct group_record r;
        rc = decode(&val, &r);
        if (!rc)
            rc = fn(ctx, &r);
        if (rc)
            break;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int store_group_load(const struct group_record *r, struct group *g)
{
    return group_read_json(r->json, r->json_len, g) ? 0 : MDB_CORRUPTED;
}
