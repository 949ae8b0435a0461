/* jsonin.c — strict request-body parsing and member readers; see include/jsonin.h. */
#include "jsonin.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

static int hex4(const char *s)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= c - '0';
        else if (c >= 'a' && c <= 'f')
            v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            v |= c - 'A' + 10;
        else
            return -1;
    }
    return v;
}

/* What json-c lets through that the contract does not: single-quoted
 * strings (accepted even in strict mode) and unpaired surrogate escapes
 * (quietly turned into U+FFFD).  One pass over the raw text, tracking
 * whether we are inside a string. */
enum raw { RAW_OK, RAW_QUOTE, RAW_SURROGATE };

static enum raw raw_scan(const char *s, size_t len)
{
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!in_string) {
            if (c == '"')
                in_string = true;
            else if (c == '\'')
                return RAW_QUOTE;
            continue;
        }
        if (c == '"') {
            in_string = false;
            continue;
        }
        if (c != '\\' || i + 1 >= len)
            continue;
        if (s[i + 1] != 'u') {
            i++; /* skip the escaped character */
            continue;
        }
        if (i + 6 > len)
            return RAW_OK; /* truncated: json-c reports it */
        int cp = hex4(s + i + 2);
        i += 5;
        if (cp < 0xD800 || cp > 0xDFFF)
            continue;
        if (cp >= 0xDC00)
            return RAW_SURROGATE; /* low surrogate without a high one */
        if (i + 7 > len || s[i + 1] != '\\' || s[i + 2] != 'u')
            return RAW_SURROGATE;
        int lo = hex4(s + i + 3);
        if (lo < 0xDC00 || lo > 0xDFFF)
            return RAW_SURROGATE;
        i += 6;
    }
    return RAW_OK;
}

struct json_object *jsonin_parse(const char *body, size_t len, struct problem *p)
{
    if (len == 0) {
        problem_set(p, 400, "invalid_json", "the request body is empty; a JSON object is expected");
        return NULL;
    }
    if (len > INT32_MAX) {
        problem_set(p, 413, "payload_too_large", "the request body is too large");
        return NULL;
    }
    struct json_tokener *tok = json_tokener_new_ex(JSONIN_MAX_DEPTH);
    if (!tok)
        abort();
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    struct json_object *obj = json_tokener_parse_ex(tok, body, (int)len);
    enum json_tokener_error err = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    enum raw raw;

    if (err == json_tokener_continue) {
        problem_set(p, 400, "invalid_json", "the request body is not complete JSON");
    } else if (err == json_tokener_error_depth) {
        problem_set(p, 400, "invalid_json", "the request body nests deeper than %d levels",
                    JSONIN_MAX_DEPTH);
    } else if (err != json_tokener_success) {
        problem_set(p, 400, "invalid_json", "the request body is not valid JSON: %s at byte %zu",
                    json_tokener_error_desc(err), end);
    } else if (end != len) {
        problem_set(p, 400, "invalid_json", "unexpected data after the JSON value at byte %zu", end);
    } else if ((raw = raw_scan(body, len)) == RAW_QUOTE) {
        problem_set(p, 400, "invalid_json", "the request body is not valid JSON: strings must use "
                                            "double quotes");
    } else if (raw == RAW_SURROGATE) {
        problem_set(p, 400, "validation_failed", "a string holds an unpaired surrogate escape");
    } else if (!json_object_is_type(obj, json_type_object)) {
        problem_set(p, 400, "invalid_json", "the request body must be a JSON object");
    } else {
        return obj;
    }
    json_object_put(obj);
    return NULL;
}

bool jsonin_check_text(const char *s, size_t len, const char *field, size_t min_cp, size_t max_cp,
                       char **out, struct problem *p)
{
    *out = NULL;
    if (memchr(s, '\0', len)) {
        problem_invalid(p, field, "must not contain NUL characters");
        return false;
    }
    if (!text_valid_utf8(s, len)) {
        problem_invalid(p, field, "is not valid UTF-8");
        return false;
    }
    s = text_trim(s, &len);
    size_t cps = text_codepoints(s, len);
    if (cps < min_cp) {
        problem_invalid(p, field, min_cp == 1 ? "must not be empty" : "must be at least %zu characters",
                        min_cp);
        return false;
    }
    if (cps > max_cp) {
        problem_invalid(p, field, "must be at most %zu characters", max_cp);
        return false;
    }
    *out = strndup(s, len);
    if (!*out)
        abort();
    return true;
}

bool jsonin_check_string(struct json_object *val, const char *field, size_t min_cp, size_t max_cp,
                         char **out, struct problem *p)
{
    *out = NULL;
    if (!json_object_is_type(val, json_type_string)) {
        problem_invalid(p, field, "must be a string");
        return false;
    }
    return jsonin_check_text(json_object_get_string(val), (size_t)json_object_get_string_len(val),
                             field, min_cp, max_cp, out, p);
}

static enum jsonin_state member(struct json_object *obj, const char *name, struct json_object **val)
{
    if (!json_object_object_get_ex(obj, name, val))
        return JSONIN_ABSENT;
    return *val ? JSONIN_VALUE : JSONIN_NULL;
}

enum jsonin_state jsonin_string(struct json_object *obj, const char *name, const char *field,
                                size_t min_cp, size_t max_cp, char **out, struct problem *p)
{
    struct json_object *val;
    *out = NULL;
    enum jsonin_state st = member(obj, name, &val);
    if (st != JSONIN_VALUE)
        return st;
    return jsonin_check_string(val, field, min_cp, max_cp, out, p) ? JSONIN_VALUE : JSONIN_INVALID;
}

enum jsonin_state jsonin_int(struct json_object *obj, const char *name, const char *field,
                             int64_t min, int64_t max, int64_t *out, struct problem *p)
{
    struct json_object *val;
    enum jsonin_state st = member(obj, name, &val);
    if (st != JSONIN_VALUE)
        return st;
    if (!json_object_is_type(val, json_type_int)) {
        problem_invalid(p, field, "must be an integer");
        return JSONIN_INVALID;
    }
    errno = 0;
    int64_t v = json_object_get_int64(val);
    if (v < min || v > max || errno == ERANGE || v == INT64_MAX) {
        problem_invalid(p, field, "must be an integer from %lld to %lld", (long long)min,
                        (long long)max);
        return JSONIN_INVALID;
    }
    *out = v;
    return JSONIN_VALUE;
}

enum jsonin_state jsonin_bool(struct json_object *obj, const char *name, const char *field,
                              bool *out, struct problem *p)
{
    struct json_object *val;
    enum jsonin_state st = member(obj, name, &val);
    if (st != JSONIN_VALUE)
        return st;
    if (!json_object_is_type(val, json_type_boolean)) {
        problem_invalid(p, field, "must be true or false");
        return JSONIN_INVALID;
    }
    *out = json_object_get_boolean(val);
    return JSONIN_VALUE;
}
