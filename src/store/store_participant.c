/*
 * store_participant.c — the participants database and its three indexes.
 *
 * Record keys are group id + participant id (store_owned.c), so one
 * group's participants are one cursor range in id order and adding or
 * removing one touches nothing that grows with the group.  Values are a
 * compact binary record (lmdb-schema/participants.md); the JSON is
 * produced when it is served, which keeps a 100,000-row import's dirty
 * pages, and so the importing worker's memory, small.
 *
 * Indexes, written by the same transaction as the record:
 *   participant_email  group id + e-mail comparison form -> participant id
 *   participant_extid  group id + externalId              -> participant id
 *   email_groups       top + e-mail comparison form       -> group ids (DUPSORT)
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "email.h"
#include "store_private.h"

#define RECORD_FORMAT 1
#define HEADER_LEN 32
#define FLAG_PLAIN 0x01 /* header byte 5: participant_plain held when it was written */

/* ---- the record ---- */

static void add_str16(struct buf *b, const char *s)
{
    size_t n = strlen(s);
    unsigned char l[2] = {(unsigned char)(n >> 8), (unsigned char)n};
    buf_add(b, l, 2);
    buf_add(b, s, n);
}

static void encode(const struct participant *pt, struct buf *out)
{
    size_t email = strlen(pt->email), name = pt->name ? strlen(pt->name) : 0;
    size_t ext = pt->external_id ? strlen(pt->external_id) : 0;
    size_t cb = strlen(pt->created_by), mb = strlen(pt->modified_by);
    unsigned char h[HEADER_LEN] = {0};
    h[0] = RECORD_FORMAT;
    h[1] = (unsigned char)pt->n_labels;
    h[2] = (unsigned char)pt->n_integrations;
    h[3] = (unsigned char)cb;
    h[4] = (unsigned char)mb;
    h[5] = participant_plain(pt) ? FLAG_PLAIN : 0;
    h[6] = (unsigned char)(email >> 8), h[7] = (unsigned char)email;
    h[8] = (unsigned char)(name >> 8), h[9] = (unsigned char)name;
    h[10] = (unsigned char)(ext >> 8), h[11] = (unsigned char)ext;
    be64_put(h + 16, (uint64_t)pt->created_at);
    be64_put(h + 24, (uint64_t)pt->updated_at);
    buf_add(out, h, sizeof h);
    buf_add(out, pt->created_by, cb);
    buf_add(out, pt->modified_by, mb);
    buf_add(out, pt->email, email);
    buf_add(out, pt->name ? pt->name : "", name);
    buf_add(out, pt->external_id ? pt->external_id : "", ext);
    for (size_t i = 0; i < pt->n_labels; i++)
        add_str16(out, pt->labels[i]);
    for (size_t i = 0; i < pt->n_integrations; i++) {
        add_str16(out, pt->integrations[i].type);
        add_str16(out, pt->integrations[i].id);
    }
}

/* Decoding places every string and array of a record in an arena, a buf
 * that the caller reuses from one record to the next: walking a group's
 * participants allocates nothing per participant once the arena is big
 * enough, which is most of what GET /group/:id costs beyond the lookup. */
struct reader {
    const unsigned char *p, *end;
    char *out; /* the next free byte of the arena */
    bool bad;
};

static char *take(struct reader *r, size_t n)
{
    if ((size_t)(r->end - r->p) < n) {
        r->bad = true;
        return NULL;
    }
    char *s = r->out;
    memcpy(s, r->p, n);
    s[n] = '\0';
    r->out += n + 1;
    r->p += n;
    return s;
}

static char *take16(struct reader *r)
{
    if (r->end - r->p < 2) {
        r->bad = true;
        return NULL;
    }
    size_t n = (size_t)r->p[0] << 8 | r->p[1];
    r->p += 2;
    return take(r, n);
}

/* pt lives as long as arena is neither changed nor freed. */
static int decode(const MDB_val *key, const MDB_val *val, struct participant *pt, struct buf *arena)
{
    memset(pt, 0, sizeof *pt);
    const unsigned char *h = val->mv_data;
    if (key->mv_size != 16 || val->mv_size < HEADER_LEN || h[0] != RECORD_FORMAT ||
        h[3] >= ACTOR_MAX || h[4] >= ACTOR_MAX)
        return MDB_CORRUPTED;
    /* Arrays first (malloc's alignment suits them), then the strings: no
     * more bytes than the record, plus a NUL for each. */
    size_t labels = h[1] * sizeof *pt->labels, arrays = labels + h[2] * sizeof *pt->integrations;
    size_t strings = 3 + h[1] + 2 * (size_t)h[2];
    arena->len = 0;
    buf_reserve(arena, arrays + val->mv_size + strings);
    pt->group = be64_get(key->mv_data);
    pt->id = be64_get((const unsigned char *)key->mv_data + 8);
    pt->created_at = (int64_t)be64_get(h + 16);
    pt->updated_at = (int64_t)be64_get(h + 24);
    pt->json_plain = h[5] & FLAG_PLAIN;
    struct reader r = {h + HEADER_LEN, h + val->mv_size, arena->data + arrays, false};
    if ((size_t)(r.end - r.p) < (size_t)h[3] + h[4])
        return MDB_CORRUPTED;
    memcpy(pt->created_by, r.p, h[3]);
    r.p += h[3];
    memcpy(pt->modified_by, r.p, h[4]);
    r.p += h[4];
    pt->email = take(&r, (size_t)h[6] << 8 | h[7]);
    pt->name = take(&r, (size_t)h[8] << 8 | h[9]);
    size_t ext = (size_t)h[10] << 8 | h[11];
    pt->external_id = ext ? take(&r, ext) : NULL;
    pt->labels = h[1] ? (char **)(void *)arena->data : NULL;
    for (; pt->n_labels < h[1] && !r.bad; pt->n_labels++)
        pt->labels[pt->n_labels] = take16(&r);
    pt->integrations = h[2] ? (struct integration *)(void *)(arena->data + labels) : NULL;
    for (; pt->n_integrations < h[2] && !r.bad; pt->n_integrations++) {
        pt->integrations[pt->n_integrations].type = take16(&r);
        pt->integrations[pt->n_integrations].id = take16(&r);
    }
    return r.bad || r.p != r.end ? MDB_CORRUPTED : 0;
}

int store_participant_get(struct store *s, MDB_txn *txn, uint64_t gid, uint64_t pid,
                          struct participant *out)
{
    unsigned char k[16];
    MDB_val key, val;
    int rc = store_owned_get(txn, s->participants, gid, pid, &key, &val, k);
    struct buf arena = BUF_INIT;
    struct participant pt;
    if (!rc)
        rc = decode(&key, &val, &pt, &arena);
    if (!rc)
        participant_copy(out, &pt);
    buf_free(&arena);
    return rc;
}

int store_participant_put(struct store *s, MDB_txn *txn, const struct participant *pt)
{
    struct buf rec = BUF_INIT;
    encode(pt, &rec);
    int rc = store_owned_put(txn, s->participants, pt->group, pt->id, &rec);
    buf_free(&rec);
    return rc;
}

int store_participant_del(struct store *s, MDB_txn *txn, uint64_t gid, uint64_t pid)
{
    return store_owned_del(txn, s->participants, gid, pid);
}

/* A walk of a group's records, decoding each into one reused arena. */
struct walk {
    struct store *s;
    MDB_txn *txn;
    uint32_t top;
    int (*fn)(void *ctx, const struct participant *pt);
    void *ctx;
    struct buf arena;
};

static int each_one(void *ctx, const MDB_val *key, const MDB_val *val)
{
    struct walk *w = ctx;
    struct participant pt;
    int rc = decode(key, val, &pt, &w->arena);
    return rc ? rc : w->fn(w->ctx, &pt);
}

int store_participant_each(struct store *s, MDB_txn *txn, uint64_t gid,
                           int (*fn)(void *ctx, const struct participant *pt), void *ctx)
{
    struct walk w = {s, txn, 0, fn, ctx, BUF_INIT};
    int rc = store_owned_each(txn, s->participants, gid, each_one, &w);
    buf_free(&w.arena);
    return rc;
}

/* ---- the indexes ---- */

/* Appends an e-mail's comparison form to an index key. */
static void add_email(struct buf *k, const char *email, size_t len)
{
    struct buf folded = BUF_INIT;
    email_key(email, len, &folded);
    store_key_text(k, folded.data, folded.len);
    buf_free(&folded);
}

static void email_index_key(uint64_t gid, const char *email, size_t len, struct buf *k)
{
    buf_add_be64(k, gid);
    add_email(k, email, len);
}

static void extid_index_key(uint64_t gid, const char *ext, size_t len, struct buf *k)
{
    buf_add_be64(k, gid);
    store_key_text(k, ext, len);
}

static void email_groups_key(uint32_t top, const char *email, size_t len, struct buf *k)
{
    buf_add_be32(k, top);
    add_email(k, email, len);
}

static int get_id(MDB_txn *txn, MDB_dbi dbi, struct buf *k, uint64_t *id)
{
    MDB_val key = {k->len, k->data}, val;
    int rc = mdb_get(txn, dbi, &key, &val);
    buf_free(k);
    if (rc)
        return rc;
    if (val.mv_size != 8)
        return MDB_CORRUPTED;
    *id = be64_get(val.mv_data);
    return 0;
}

int store_participant_find(struct store *s, MDB_txn *txn, uint64_t gid, enum pkey kind,
                           const char *v, size_t len, uint64_t *pid)
{
    struct buf k = BUF_INIT;
    if (kind == PKEY_EMAIL) {
        email_index_key(gid, v, len, &k);
        return get_id(txn, s->participant_email, &k, pid);
    }
    extid_index_key(gid, v, len, &k);
    return get_id(txn, s->participant_extid, &k, pid);
}

static int index_one(MDB_txn *txn, MDB_dbi dbi, struct buf *k, const void *v, bool add,
                     unsigned flags)
{
    MDB_val key = {k->len, k->data}, val = {8, (void *)v};
    int rc = add ? mdb_put(txn, dbi, &key, &val, flags) : mdb_del(txn, dbi, &key, &val);
    buf_free(k);
    return rc;
}

int store_participant_index(struct store *s, MDB_txn *txn, uint32_t top,
                            const struct participant *pt, unsigned keys, bool add, enum pkey *clash)
{
    unsigned char pid[8], gid[8];
    be64_put(pid, pt->id);
    be64_put(gid, pt->group);
    int rc = 0;
    struct buf k = BUF_INIT;
    if (keys & PKEY_EMAIL) {
        email_index_key(pt->group, pt->email, strlen(pt->email), &k);
        rc = index_one(txn, s->participant_email, &k, pid, add, MDB_NOOVERWRITE);
        if (rc == MDB_KEYEXIST && clash)
            *clash = PKEY_EMAIL;
        if (!rc) {
            email_groups_key(top, pt->email, strlen(pt->email), &k);
            rc = index_one(txn, s->email_groups, &k, gid, add, MDB_NODUPDATA);
        }
    }
    if (!rc && (keys & PKEY_EXTID) && pt->external_id) {
        extid_index_key(pt->group, pt->external_id, strlen(pt->external_id), &k);
        rc = index_one(txn, s->participant_extid, &k, pid, add, MDB_NOOVERWRITE);
        if (rc == MDB_KEYEXIST && clash)
            *clash = PKEY_EXTID;
    }
    return rc;
}

void store_participant_entries(struct store *s, uint32_t top, const struct participant *pt,
                               store_entry_fn *add, void *ctx)
{
    unsigned char pid[8], gid[8];
    be64_put(pid, pt->id);
    be64_put(gid, pt->group);
    struct buf k = BUF_INIT;
    email_index_key(pt->group, pt->email, strlen(pt->email), &k);
    add(ctx, s->participant_email, k.data, k.len, pid, 8);
    buf_reset(&k);
    email_groups_key(top, pt->email, strlen(pt->email), &k);
    add(ctx, s->email_groups, k.data, k.len, gid, 8);
    if (pt->external_id) {
        buf_reset(&k);
        extid_index_key(pt->group, pt->external_id, strlen(pt->external_id), &k);
        add(ctx, s->participant_extid, k.data, k.len, pid, 8);
    }
    buf_free(&k);
}

int store_email_groups(struct store *s, MDB_txn *txn, uint32_t top, const char *email, size_t len,
                       int (*fn)(void *ctx, uint64_t gid), void *ctx)
{
    struct buf k = BUF_INIT;
    email_groups_key(top, email, len, &k);
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, s->email_groups, &cur);
    if (rc) {
        buf_free(&k);
        return rc;
    }
    MDB_val key = {k.len, k.data}, val;
    for (rc = mdb_cursor_get(cur, &key, &val, MDB_SET_KEY); rc == 0;
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT_DUP)) {
        if (val.mv_size != 8) {
            rc = MDB_CORRUPTED;
            break;
        }
        rc = fn(ctx, be64_get(val.mv_data));
        if (rc)
            break;
    }
    mdb_cursor_close(cur);
    buf_free(&k);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Before a record of a purged group goes: its index entries. */
static int unindex(void *ctx, const struct participant *pt)
{
    struct walk *w = ctx;
    return store_participant_index(w->s, w->txn, w->top, pt, PKEY_EMAIL | PKEY_EXTID, false, NULL);
}

/* Erases every participant of a group with its index entries (a purge). */
int store_participant_purge_group(struct store *s, MDB_txn *txn, uint32_t top, uint64_t gid)
{
    struct walk w = {s, txn, top, unindex, NULL, BUF_INIT};
    w.ctx = &w;
    int rc = store_owned_drop(txn, s->participants, gid, each_one, &w);
    buf_free(&w.arena);
    return rc;
}
