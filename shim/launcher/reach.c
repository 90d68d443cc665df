/* The launcher's word on the command it starts: what a preloaded library cannot
 * reach (without the supervisor), and what the supervisor changes (with it). */
#include <stdio.h>

#include "shim/common/elf.h"
#include "shim/common/escape.h"
#include "shim/launcher/launcher.h"

int bs_warn_unreachable(const char *path, bool supervised)
{
	struct bs_exe_facts f;
	const char *why;
	/* Records share this stderr by default: a name must not start a line. */
	char shown[BS_ESCAPE_PER_BYTE * 1024];

	if (bs_exe_inspect(path, &f) < 0)
		return 0;	/* exec will say what is wrong with it */
	bs_text_escape(shown, sizeof(shown), path);
	if (supervised) {
		if (f.is32) {
			fprintf(stderr, "bindshim run: %s is a 32-bit program: the supervisor "
				"cannot read its system calls; run it with --preload-only\n", shown);
			return -1;
		}
		/* The supervisor sees every bind; only the privileges are lost. */
		if (f.setid || f.caps)
			fprintf(stderr, "bindshim run: warning: %s %s: under the supervisor "
				"(no_new_privs) it runs without those privileges\n", shown,
				f.setid ? "is setuid or setgid" : "has file capabilities");
		return 0;
	}
	if ((why = bs_exe_unreachable(&f)))
		fprintf(stderr, "bindshim run: warning: not covered: %s %s: a preloaded "
			"library cannot reach its binds (the supervisor can: drop "
			"--preload-only)\n", shown, why);
	return 0;
}
