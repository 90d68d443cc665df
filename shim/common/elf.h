/* What a preloaded library cannot reach: the launcher warns about the command,
 * and the shim's exec hooks about what a descendant starts. */
#ifndef BS_ELF_H
#define BS_ELF_H

#include <stdbool.h>
#include <sys/types.h>

struct bs_exe_facts {
	bool elf;			/* an ELF file at all */
	bool is32;			/* 32-bit ELF (or x32) */
	bool dynamic;			/* has a dynamic loader (PT_INTERP) */
	bool go;			/* a Go program (raw syscalls even when dynamic) */
	bool setid;			/* setuid or setgid, to ids not the caller's */
	bool caps;			/* file capabilities, the caller not root */
	dev_t dev;			/* the file, for telling executables apart */
	ino_t ino;
};

/* Inspects executable path as the calling process would start it, without
 * allocating (exec hooks may run in a vfork child); returns 0, or -1 if it is not
 * there (a file that exists but cannot be read has only its privileges set). */
int bs_exe_inspect(const char *path, struct bs_exe_facts *f);
/* Why a preloaded library cannot reach f's binds ("is a Go program", "is
 * statically linked", "is setuid or setgid", "has file capabilities"), or NULL. */
const char *bs_exe_unreachable(const struct bs_exe_facts *f);

#endif
