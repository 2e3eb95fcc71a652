/*
 * libwhacofault.h: the control functions of the test-only fault injection
 * library (libwhacofault.c), for a unit test that links it in instead of
 * loading it with LD_PRELOAD and the WHACO_FAULT_* environment.
 */
#ifndef WHACO_LIBWHACOFAULT_H
#define WHACO_LIBWHACOFAULT_H

/*
 * Watch files opened from now on under dir (NULL or "": none); while the
 * file ctl exists (NULL: no control file), every watched call of the kinds
 * it names fails. Whether a descriptor is watched is decided when it is
 * opened, so call this before the files are opened (and again only while
 * no file under the old dir is open).
 */
void whacofault_set(const char *dir, const char *ctl);

/*
 * From now on, the nth watched call (nth > 0; 0 disarms) of the given kinds
 * (words among "open write sync truncate"; NULL: all) fails once with err
 * (0: EIO). Resets the counters below. Thread-safe.
 */
void whacofault_arm(long nth, int err, const char *kinds);

/* Watched calls of the armed kinds since the last whacofault_arm. */
long whacofault_calls(void);

/* Calls made to fail since the last whacofault_arm. */
long whacofault_failures(void);

#endif /* WHACO_LIBWHACOFAULT_H */
