/* email.c — e-mail address rules; see include/email.h. */
#include "email.h"

#include <string.h>

#include "text.h"

const char *email_problem(const char *s, size_t len)
{
    if (len == 0)
        return "must not be empty";
    if (len > EMAIL_MAX)
        return "must be at most 254 bytes";
    if (text_has_control(s, len))
        return "must not contain control characters";
    if (text_has_space(s, len))
        return "must not contain white space";
    const char *at = memchr(s, '@', len);
    if (!at)
        return "is not a valid e-mail address: it has no @";
    if (memchr(at + 1, '@', len - (size_t)(at - s) - 1))
        return "is not a valid e-mail address: it has more than one @";
    size_t local = (size_t)(at - s);
    if (local == 0)
        return "is not a valid e-mail address: nothing before the @";
    if (local > EMAIL_LOCAL_MAX)
        return "is not a valid e-mail address: the part before the @ is over 64 bytes";
    const char *domain = at + 1;
    size_t dlen = len - local - 1;
    if (!memchr(domain, '.', dlen))
        return "is not a valid e-mail address: the domain has no dot";
    /* No empty labels: no leading or trailing dot, no two dots in a row. */
    if (dlen == 0 || domain[0] == '.' || domain[dlen - 1] == '.' || memmem(domain, dlen, "..", 2))
        return "is not a valid e-mail address: the domain has an empty label";
    return NULL;
}

void email_key(const char *s, size_t len, struct buf *out)
{
    if (!text_casefold(s, len, out))
        buf_add(out, s, len); /* valid UTF-8 is never rejected; keep the bytes if it were */
}
