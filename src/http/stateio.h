/*
 * http/stateio.h: the core state as the seed's two JSON files,
 * whaco_state.json (segmentation) and oscillator_state.json (the team),
 * for `whaco state export` and `whaco state import`.
 *
 * The seed's TypeScript service kept its state in these two files; their
 * exact layout was never published, so whaco defines it (docs/state-files.md)
 * with the seed's vocabulary, and imports the fields it names leniently:
 * unknown fields are ignored, missing optional ones take defaults. Import
 * checks every value and refuses the whole import on the first bad one,
 * naming the file and the field.
 */
#ifndef WHACO_HTTP_STATEIO_H
#define WHACO_HTTP_STATEIO_H

#include <stddef.h>

#include "whaco/intel.h"

/*
 * Render the two files; malloc'd strings the caller frees with free() or
 * whaco_free() (NULL when out of memory, never a file with a part missing).
 */
char *stateio_export_whaco(const struct whaco_intel *in);
char *stateio_export_oscillator(const struct whaco_intel *in);

/*
 * Build *in (initialised by the caller with whaco_intel_init) from the two
 * files' texts. Returns WHACO_OK, WHACO_E_PARSE with errbuf saying which
 * file and field is wrong, or WHACO_E_NOMEM ("<file>: out of memory"); on
 * error *in is unspecified and must only be released.
 */
int stateio_import(struct whaco_intel *in, const char *whaco_json, size_t whaco_len,
                   const char *oscillator_json, size_t oscillator_len, char *errbuf, size_t errlen);

#endif /* WHACO_HTTP_STATEIO_H */
