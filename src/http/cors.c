/*
 * cors.c: the CORS allow-list (cors.h): parsing and normalising origins,
 * and the exact match of a request's Origin against them.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "http/cors.h"
#include "banned.h"

void cors_list_clear(struct cors_list *l)
{
    l->n = 0;
}

static bool host_char(char c)
{
    return isalnum((unsigned char)c) || c == '-' || c == '.' || c == '[' || c == ']' || c == ':';
}

/*
 * Normalise one origin of n bytes into out (CORS_ORIGIN_MAX): lower-case
 * scheme and host, no trailing '/'. Returns NULL, or why it is refused.
 */
static const char *normalise(const char *s, size_t n, char *out)
{
    while (n > 0 && s[n - 1] == '/')
        n--;
    if (n == 0)
        return "empty origin";
    if (n >= CORS_ORIGIN_MAX)
        return "too long";
    if ((n == 1 && s[0] == '*') || (n == 4 && strncmp(s, "null", 4) == 0))
        return "'*' and 'null' are not allowed: list each origin";
    for (size_t i = 0; i < n; i++)
        out[i] = (char)tolower((unsigned char)s[i]);
    out[n] = '\0';
    const char *rest;
    if (strncmp(out, "http://", 7) == 0)
        rest = out + 7;
    else if (strncmp(out, "https://", 8) == 0)
        rest = out + 8;
    else
        return "expected http://HOST[:PORT] or https://HOST[:PORT]";
    if (!*rest)
        return "no host";
    for (const char *p = rest; *p; p++)
        if (!host_char(*p))
            return "an origin has no path, query or user: only scheme://HOST[:PORT]";
    return NULL;
}

static int add_one(struct cors_list *l, const char *s, size_t n, char *errbuf, size_t errlen)
{
    char norm[CORS_ORIGIN_MAX];
    const char *why = normalise(s, n, norm);
    if (why) {
        snprintf(errbuf, errlen, "'%.*s': %s", (int)(n > 80 ? 80 : n), s, why);
        return -1;
    }
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->origin[i], norm))
            return 0;
    if (l->n == CORS_MAX_ORIGINS) {
        snprintf(errbuf, errlen, "at most %d origins", CORS_MAX_ORIGINS);
        return -1;
    }
    memcpy(l->origin[l->n++], norm, strlen(norm) + 1);
    return 0;
}

int cors_list_add(struct cors_list *l, const char *text, char *errbuf, size_t errlen)
{
    const char *p = text;
    while (*p) {
        const char *comma = strchr(p, ',');
        const char *end = comma ? comma : p + strlen(p);
        const char *b = p, *e = end;
        while (b < e && isspace((unsigned char)*b))
            b++;
        while (e > b && isspace((unsigned char)e[-1]))
            e--;
        if (e > b && add_one(l, b, (size_t)(e - b), errbuf, errlen))
            return -1;
        p = comma ? comma + 1 : end;
    }
    return 0;
}

bool cors_allowed(const struct cors_list *l, const char *origin)
{
    if (!origin || l->n == 0)
        return false;
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->origin[i], origin))
            return true;
    return false;
}
