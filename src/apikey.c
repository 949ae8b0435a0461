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

void apikey_generate(uint32_t id, char key[APIKEY_STRING_MAX], unsigned char hash[APIKEY_HASH_LEN])
{
    unsigned char secret[SECRET_BYTES];
    char b64[sodium_base64_ENCODED_LEN(SECRET_BYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
    randombytes_buf(secret, sizeof secret);
    sodium_bin2base64(b64, sizeof b64, secret, sizeof secret,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(secret, sizeof secret);
    snprintf(key, APIKEY_STRING_MAX, "gdk_%u_%s", id, b64);
    hash_key(key, hash);
}

/* Reads the id out of "gdk_<id>_<secret>"; false when the shape is wrong. */
static bool parse_id(const char *key, uint32_t *id)
{
    if (strncmp(key, "gdk_", 4) != 0 || strlen(key) >= APIKEY_STRING_MAX)
        return false;
    uint64_t v = 0;
    const char *p = key + 4;
    if (*p < '1' || *p > '9')
        return false;
    for (; *p >= '0' && *p <= '9'; p++) {
        v = v * 10 + (uint64_t)(*p - '0');
        if (v > UINT32_MAX)
            return false;
    }
    if (*p != '_' || p[1] == '\0')
        return false;
    *id = (uint32_t)v;
    return true;
}

int apikey_authenticate(struct store *s, MDB_txn *txn, const char *key, struct principal *who)
{
    uint32_t id;
    if (!key || !parse_id(key, &id))
        return MDB_NOTFOUND;
    struct apikey_record rec;
    int rc = store_key_get(s, txn, id, &rec);
    if (rc)
        return rc;
    unsigned char hash[APIKEY_HASH_LEN];
    hash_key(key, hash);
    if (sodium_memcmp(hash, rec.hash, APIKEY_HASH_LEN) != 0 || rec.revoked)
        return MDB_NOTFOUND;
    who->key_id = rec.id;
    memcpy(who->actor, "key-", 4);
    *u64_digits(who->actor + 4, rec.id) = '\0'; /* "key-" and at most 10 digits */
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
