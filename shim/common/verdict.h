/* From an outcome to what the caller does and which record it writes: one rule for
 * the shim (shim/lib/judge.c) and the enforcing supervisor (supervise.c). */
#ifndef BS_VERDICT_H
#define BS_VERDICT_H

#include "shim/common/settings.h"

enum bs_verdict { BS_PASS, BS_USE_TO, BS_FAIL };

/* Returns what to do with a call whose outcome is o: pass it on unchanged, bind
 * o->to instead, or fail with o->err. Sets *event (and *action, for dry runs) to the
 * record to write, or NULL for none. quiet: record rewrites only. */
enum bs_verdict bs_verdict_of(const struct bs_outcome *o, const struct bs_settings *set,
			      bool quiet, const char **event, const char **action);

#endif
