/*
 * http/teamjson.h: a team file in JSON, for `whaco simulate --team
 * FILE.json`, read with jansson:
 *
 *   [{"id": "ann", "name": "Ann", "skillLevel": 0.9, "naturalFrequency": 0.9},
 *    ...]
 *
 * An array of objects, each with the four keys above: id and name strings
 * (any JSON string, \u escapes included), skillLevel and naturalFrequency
 * numbers. Other keys are ignored, whatever their value; a repeated key
 * counts once, with its last value. Only this shape is checked here: the
 * values are the caller's to check (src/cli/teamfile.c checks them with the
 * rule it applies to CSV team files).
 */
#ifndef WHACO_HTTP_TEAMJSON_H
#define WHACO_HTTP_TEAMJSON_H

#include <stddef.h>

/*
 * Called once per member, in the file's order. index is its position in
 * the array, from 1. id and name are borrowed for the call only: UTF-8
 * without NUL bytes (jansson refuses \u0000), of any length. Returns 0 to
 * go on, or a nonzero value to stop the parse, which then returns it.
 */
typedef int (*teamjson_member_cb)(void *ctx, size_t index, const char *id, const char *name,
                                  double skill_level, double natural_frequency);

/*
 * Parse the len bytes at text (not necessarily NUL-terminated) and call cb
 * for each member. msg[msglen] is set to "" first. Returns:
 *   0               every member was passed to cb (none for "[]");
 *   WHACO_E_PARSE   the text is not JSON or not of the shape above; msg
 *                   says what and where -- a line, column and byte offset
 *                   for a syntax error, "salesperson N" (N from 1) and the
 *                   key for a member of the wrong shape, e.g.
 *                   "salesperson 2: skillLevel: expected a number, not a
 *                   string";
 *   WHACO_E_NOMEM   an allocation failed (msg "out of memory"), told apart
 *                   from a syntax error as http/json.c does;
 *   cb's value      cb returned nonzero; msg stays "" (cb reports itself).
 * Members before the one at fault have been passed to cb. Thread-safe
 * (jansson's allocator must be set up first, json_alloc_init).
 */
int teamjson_parse(const char *text, size_t len, teamjson_member_cb cb, void *ctx, char *msg,
                   size_t msglen);

#endif /* WHACO_HTTP_TEAMJSON_H */
