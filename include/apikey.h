/*
 * apikey.h — API keys: making them, recognising them, and who they speak for.
 *
 * A key reads "gdk_<top>_<id>_<secret>": its topOrganisation (so a router
 * places a request on its tenant's shard without knowing the secret,
 * API.md §9), its id (decimal, the same number as in "key-<id>", the
 * string in createdBy) and 32 random bytes from libsodium in unpadded
 * base64url.  Keys made before tenants were named read "gdk_<id>_<secret>"
 * and keep working.  The store holds only a BLAKE2b-256 hash of the
 * whole string.  Because the secret has 256 bits of entropy a fast hash is
 * enough (no password stretching is needed), and the id lets us fetch the
 * one record to compare against, so the comparison itself is constant
 * time (sodium_memcmp) rather than a B-tree search on the hash.
 */
#ifndef GROUPD_APIKEY_H
#define GROUPD_APIKEY_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"

#define APIKEY_STRING_MAX 80

struct principal {
    uint64_t key_id;
    char actor[ACTOR_MAX]; /* "key-<id>" */
    enum role role;
    uint32_t top_organisation;
    size_t n_orgs; /* 0: all organisations of the top */
    uint32_t orgs[APIKEY_MAX_ORGS];
};

/* Must be called once per process before any other function here. */
int apikey_init(void);

/* Makes a new key string for key id of topOrganisation top, and its hash. */
void apikey_generate(uint32_t top, uint64_t id, char key[APIKEY_STRING_MAX],
                     unsigned char hash[APIKEY_HASH_LEN]);
/* The topOrganisation a key of the current form names (false for an older
 * key or a malformed one); nothing is checked against the store. */
bool apikey_tenant(const char *key, uint32_t *top);

/* Looks the key up and fills who: *known is false for a malformed,
 * unknown, revoked or mismatching key.  Returns 0, or a store failure. */
int apikey_authenticate(struct store *s, MDB_txn *txn, const char *key, struct principal *who,
                        bool *known);

/* True when the principal may act on organisation org. */
bool principal_covers(const struct principal *who, uint32_t org);

const char *role_name(enum role r);
/* Parses "read" / "write" / "admin"; 0 when unknown. */
enum role role_parse(const char *s);

#endif
