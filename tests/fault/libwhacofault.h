/*
 * libwhacofault.h: the control functions of the test-only fault injection
 * library (libwhacofault.c), for a unit test that links it in instead of
 * loading it with LD_PRELOAD and the WHACO_FAULT_* environment.
 */
#ifndef WHACO_LIBWHACOFAULT_H
#define WHACO_LIBWHACOFAULT_H

/*
 * Watch files opened from now on under dir (NULL or "": none). ctl: the
 * control file whose existence makes every watched call fail (NULL: none).
 * nth > 0: the nth watched call of the given kinds from now fails once with
 * err (0: EIO). kinds: words among "open write sync truncate" (NULL: all).
 * Resets the counters. Whether a descriptor is watched is decided when it
 * is opened, so set dir before the files are opened.
 */
void whacofault_set(const char *dir, const char *ctl, long nth, int err, const char *kinds);

/* Watched calls of the armed kinds since the last whacofault_set. */
long whacofault_calls(void);

/* Calls made to fail since the last whacofault_set. */
long whacofault_failures(void);

#endif /* WHACO_LIBWHACOFAULT_H */
