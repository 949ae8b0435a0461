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

/* What json-c lets through, even in strict mode, that RFC 8259 and the
 * contract do not: single-quoted strings, the literals NaN, Infinity and
 * -Infinity, a fraction without digits ("1."), control characters
 * unescaped inside strings, and unpaired surrogate escapes (quietly
 * turned into U+FFFD).  One linear pass over the raw text, tracking
 * whether we are inside a string. */
enum raw { RAW_OK, RAW_QUOTE, RAW_LITERAL, RAW_FRACTION, RAW_CONTROL, RAW_SURROGATE };

static bool is_letter(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Outside strings: a run of letters must be true, false or null. */
static bool literal_ok(const char *s, size_t n)
{
    return (n == 4 && (memcmp(s, "true", 4) == 0 || memcmp(s, "null", 4) == 0)) ||
           (n == 5 && memcmp(s, "false", 5) == 0);
}

static enum raw raw_scan(const char *s, size_t len)
{
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!in_string) {
            if (c == '"') {
                in_string = true;
            } else if (c == '\'') {
                return RAW_QUOTE;
            } else if (is_letter(c)) {
                size_t n = 1;
                while (i + n < len && is_letter(s[i + n]))
                    n++;
                /* An exponent's e belongs to a number: a digit comes before it. */
                bool exponent =
                    n == 1 && (c == 'e' || c == 'E') && i > 0 && s[i - 1] >= '0' && s[i - 1] <= '9';
                if (!exponent && !literal_ok(s + i, n))
                    return RAW_LITERAL;
                i += n - 1;
            } else if (c == '.' && (i + 1 >= len || s[i + 1] < '0' || s[i + 1] > '9')) {
                return RAW_FRACTION;
            }
            continue;
        }
        if ((unsigned char)c < 0x20)
            return RAW_CONTROL;
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

/* An upper bound of the values json-c would build: every object, array
 * and member or entry after a comma, outside strings.  Counted before
 * parsing, because json-c spends a few hundred bytes on each (a hash
 * table per object): a megabyte of "{}" would otherwise cost 260 MB. */
static bool too_many_values(const char *s, size_t len)
{
    size_t n = 1;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if ((c == '{' || c == '[' || c == ',') && ++n > JSONIN_MAX_VALUES) {
            return true;
        }
    }
    return false;
}

struct json_object *jsonin_parse(const char *body, size_t len, struct problem *p)
{
    if (len == 0) {
        problem_set(p, 400, "invalid_json", "the request body is empty; a JSON object is expected");
        return NULL;
    }
    if (len > INT32_MAX || too_many_values(body, len)) {
        problem_set(p, 413, "payload_too_large",
                    "the JSON body is too large: at most %d values (send long participant "
                    "lists as a CSV import)",
                    JSONIN_MAX_VALUES);
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
        problem_set(p, 400, "invalid_json", "unexpected data after the JSON value at byte %zu",
                    end);
    } else if ((raw = raw_scan(body, len)) == RAW_QUOTE) {
        problem_set(p, 400, "invalid_json",
                    "the request body is not valid JSON: strings must use "
                    "double quotes");
    } else if (raw == RAW_LITERAL) {
        problem_set(p, 400, "invalid_json",
                    "the request body is not valid JSON: the only literals "
                    "are true, false and null (no NaN or Infinity)");
    } else if (raw == RAW_FRACTION) {
        problem_set(p, 400, "invalid_json",
                    "the request body is not valid JSON: a decimal point "
                    "must be followed by digits");
    } else if (raw == RAW_CONTROL) {
        problem_set(p, 400, "invalid_json",
                    "the request body is not valid JSON: control "
                    "characters in strings must be escaped");
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
        problem_invalid(p, field,
                        min_cp == 1 ? "must not be empty" : "must be at least %zu characters",
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
