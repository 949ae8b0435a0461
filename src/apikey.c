/* apikey.c — making and checking API keys; see include/apikey.h. */
#include "apikey.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define SECRET_BYTES 32

int apikey_init(void)
{
    return sodium_init() < 0 ? -1 : 0;
}

static void hash_key(const char *key, unsigned char hash[APIKEY_HASH_LEN])
{
    crypto_generichash(hash, APIKEY_HASH_LEN, (const unsigned char *)key, strlen(key), NULL, 0);
}

void apikey_generate(uint32_t top, uint64_t id, char key[APIKEY_STRING_MAX],
                     unsigned char hash[APIKEY_HASH_LEN])
{
    unsigned char secret[SECRET_BYTES];
    char b64[sodium_base64_ENCODED_LEN(SECRET_BYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
    randombytes_buf(secret, sizeof secret);
    sodium_bin2base64(b64, sizeof b64, secret, sizeof secret,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(secret, sizeof secret);
    snprintf(key, APIKEY_STRING_MAX, "gdk_%u_%llu_%s", top, (unsigned long long)id, b64);
    hash_key(key, hash);
}

/* A decimal number from 1 to max (no leading zero) followed by '_' and
 * something more; the number and what follows the '_', or NULL. */
static const char *number_then(const char *p, uint64_t max, uint64_t *v)
{
    uint64_t n = 0;
    if (*p < '1' || *p > '9')
        return NULL;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (n > (max - (uint64_t)(*p - '0')) / 10)
            return NULL;
        n = n * 10 + (uint64_t)(*p - '0');
    }
    if (*p != '_' || p[1] == '\0')
        return NULL;
    *v = n;
    return p + 1;
}

/* Key ids: those of the last shard at most. */
#define KEY_ID_MAX ((uint64_t)(STORE_SHARD_MAX + 1) * STORE_SHARD_IDS - 1)

bool apikey_tenant(const char *key, uint32_t *top)
{
    uint64_t t, id;
    const char *rest =
        key && strncmp(key, "gdk_", 4) == 0 ? number_then(key + 4, UINT32_MAX, &t) : NULL;
    if (!rest || !number_then(rest, KEY_ID_MAX, &id))
        return false;
    *top = (uint32_t)t;
    return true;
}

/* The record a key string names, when its hash matches (*ok); a store
 * failure is returned. */
static int match(struct store *s, MDB_txn *txn, uint64_t id, bool top_given, uint64_t top,
                 const unsigned char hash[APIKEY_HASH_LEN], struct apikey_record *rec, bool *ok)
{
    int rc = store_key_find(s, txn, id, rec, ok);
    if (!rc && *ok)
        *ok = (!top_given || rec->top_organisation == top) &&
              sodium_memcmp(hash, rec->hash, APIKEY_HASH_LEN) == 0;
    return rc;
}

int apikey_authenticate(struct store *s, MDB_txn *txn, const char *key, struct principal *who,
                        bool *known)
{
    *known = false;
    if (!key || strncmp(key, "gdk_", 4) != 0 || strlen(key) >= APIKEY_STRING_MAX)
        return 0;
    /* "gdk_<top>_<id>_<secret>", or the older "gdk_<id>_<secret>": a
     * secret (base64url) may itself begin with digits and '_', so both
     * readings are tried; the hash of the whole string decides. */
    unsigned char hash[APIKEY_HASH_LEN];
    hash_key(key, hash);
    struct apikey_record rec;
    uint64_t first, second;
    const char *rest = number_then(key + 4, KEY_ID_MAX, &first);
    if (!rest)
        return 0;
    bool ok = false;
    int rc = 0;
    if (first <= UINT32_MAX && number_then(rest, KEY_ID_MAX, &second))
        rc = match(s, txn, second, true, first, hash, &rec, &ok);
    if (!rc && !ok)
        rc = match(s, txn, first, false, 0, hash, &rec, &ok);
    if (rc || !ok || rec.revoked)
        return rc;
    *known = true;
    who->key_id = rec.id;
    memcpy(who->actor, "key-", 4);
    *u64_digits(who->actor + 4, rec.id) = '\0'; /* "key-" and at most 16 digits */
    who->role = rec.role;
    who->top_organisation = rec.top_organisation;
    who->n_orgs = rec.n_orgs;
    memcpy(who->orgs, rec.orgs, rec.n_orgs * sizeof rec.orgs[0]);
    return 0;
}

bool principal_covers(const struct principal *who, uint32_t org)
{
    if (who->n_orgs == 0)
        return true;
    for (size_t i = 0; i < who->n_orgs; i++)
        if (who->orgs[i] == org)
            return true;
    return false;
}

const char *role_name(enum role r)
{
    switch (r) {
    case ROLE_READ: return "read";
    case ROLE_WRITE: return "write";
    case ROLE_ADMIN: return "admin";
    }
    return "unknown";
}

enum role role_parse(const char *s)
{
    if (strcmp(s, "read") == 0)
        return ROLE_READ;
    if (strcmp(s, "write") == 0)
        return ROLE_WRITE;
    if (strcmp(s, "admin") == 0)
        return ROLE_ADMIN;
    return 0;
}
