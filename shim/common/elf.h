/* What a preloaded library cannot reach: the launcher warns about the command,
 * and the shim's exec hooks about what a descendant starts. */
#ifndef BS_ELF_H
#define BS_ELF_H

#include <stdbool.h>

struct bs_exe_facts {
	bool elf;			/* an ELF file at all */
	bool is32;			/* 32-bit ELF (or x32) */
	bool dynamic;			/* has a dynamic loader (PT_INTERP) */
	bool go;			/* a Go program (raw syscalls even when dynamic) */
	bool setid;			/* setuid or setgid */
	bool caps;			/* file capabilities */
};

/* Inspects executable path without allocating (exec hooks may run in a vfork
 * child); returns 0, or -1 if it cannot be read. */
int bs_exe_inspect(const char *path, struct bs_exe_facts *f);
/* Why a preloaded library cannot reach f's binds ("is a Go program", "is
 * statically linked", "is setuid or setgid", "has file capabilities"), or NULL. */
const char *bs_exe_unreachable(const struct bs_exe_facts *f);

#endif
