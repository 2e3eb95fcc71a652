/*
 * teamjson.c: team files in JSON (teamjson.h), on jansson -- the grammar is
 * jansson's, not a second one written by hand, so every JSON string works,
 * \u escapes and surrogate pairs included.
 *
 * The document is loaded whole (a team file is at most a few hundred KiB),
 * then walked: the array, each member's object, the four keys' types.
 * Messages name the member by its position from 1 and the key at fault;
 * jansson's syntax errors keep its line, column and byte offset.
 *
 * Out of memory: jansson's lexer may report a failed allocation as a syntax
 * error, so any allocation that failed on this thread during the load makes
 * the result WHACO_E_NOMEM (as in json.c's load_object).
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "whaco/alloc.h"
#include "whaco/err.h"
#include "http/teamjson.h"
#include "banned.h"

#define SHAPE "{\"id\", \"name\", \"skillLevel\", \"naturalFrequency\"}"

/* A member's keys, in the order their types are checked. */
enum key { KEY_ID, KEY_NAME, KEY_SKILL_LEVEL, KEY_NATURAL_FREQUENCY, KEY_COUNT };

static const char *const key_names[KEY_COUNT] = {"id", "name", "skillLevel", "naturalFrequency"};

/* "an object", "a string", ... for a message about v's type. */
static const char *kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
        return "true";
    case JSON_FALSE:
        return "false";
    case JSON_NULL:
        return "null";
    }
    return "an unknown value"; /* not reached: jansson has no other type */
}

/* Write the message; returns WHACO_E_PARSE. */
static int shape_error(char *msg, size_t msglen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, msglen, fmt, ap);
    va_end(ap);
    return WHACO_E_PARSE;
}

/* Check member index's object o and pass its fields to cb. */
static int member(const json_t *o, size_t index, teamjson_member_cb cb, void *ctx, char *msg,
                  size_t msglen)
{
    const json_t *v[KEY_COUNT];
    bool complete = true;
    if (!json_is_object(o))
        return shape_error(msg, msglen, "salesperson %zu: expected an object %s, not %s", index,
                           SHAPE, kind(o));
    for (int k = 0; k < KEY_COUNT; k++) {
        v[k] = json_object_get(o, key_names[k]);
        if (!v[k]) {
            complete = false;
            continue;
        }
        bool is_text = k == KEY_ID || k == KEY_NAME;
        if (is_text ? !json_is_string(v[k]) : !json_is_number(v[k]))
            return shape_error(msg, msglen, "salesperson %zu: %s: expected %s, not %s", index,
                               key_names[k], is_text ? "a string" : "a number", kind(v[k]));
    }
    if (!complete)
        return shape_error(
            msg, msglen, "salesperson %zu needs id, name, skillLevel and naturalFrequency", index);
    return cb(ctx, index, json_string_value(v[KEY_ID]), json_string_value(v[KEY_NAME]),
              json_number_value(v[KEY_SKILL_LEVEL]), json_number_value(v[KEY_NATURAL_FREQUENCY]));
}

int teamjson_parse(const char *text, size_t len, teamjson_member_cb cb, void *ctx, char *msg,
                   size_t msglen)
{
    json_error_t jerr;
    if (msglen)
        msg[0] = '\0';
    uint64_t failures = whaco_alloc_failures_here();
    /* JSON_DECODE_ANY: a top-level value other than an array is a shape
     * error with its own message, not a syntax error. */
    json_t *root = json_loadb(text, len, JSON_DECODE_ANY, &jerr);
    bool oom = whaco_alloc_failures_here() != failures;
    if (oom ||
        (!root && (json_error_code(&jerr) == json_error_out_of_memory || jerr.text[0] == '\0'))) {
        json_decref(root);
        snprintf(msg, msglen, "out of memory");
        return WHACO_E_NOMEM;
    }
    if (!root)
        return shape_error(msg, msglen, "invalid JSON at line %d, column %d (byte %d): %s",
                           jerr.line, jerr.column, jerr.position, jerr.text);
    int rc = 0;
    if (!json_is_array(root)) {
        rc = shape_error(msg, msglen, "expected a JSON array of %s objects, not %s", SHAPE,
                         kind(root));
    }
    for (size_t i = 0; rc == 0 && i < json_array_size(root); i++)
        rc = member(json_array_get(root, i), i + 1, cb, ctx, msg, msglen);
    json_decref(root);
    return rc;
}
