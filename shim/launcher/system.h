/* Kernel mode in the launcher: the `system` verb, `explain --kernel`, and the part
 * of `audit` that asks the kernel program. */
#ifndef BS_SYSTEM_H
#define BS_SYSTEM_H

#include "shim/launcher/policyopt.h"

/* system.c: `bindshim system VERB ...`. */
int bs_cmd_system(int argc, char **argv);
/* Prints what the kernel program would do with bind(ss) by q's caller, from the
 * compiled tables (the live ones, or the -p file compiled now); exit status. */
int bs_kexplain(const struct bs_policyopt *po, const struct bs_query *q,
		const struct sockaddr_storage *ss, int v6only);
/* For audit (text): lists the listeners the kernel program placed, if any. */
void bs_kaudit(void);

#endif
