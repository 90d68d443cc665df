/*
 * Can a preloaded library reach this executable? The dynamic loader ignores
 * LD_PRELOAD (from untrusted directories) for setuid, setgid and file-capability
 * executables; a static executable has no dynamic loader at all; Go programs make
 * their socket syscalls directly, not through libc.
 */
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "shim/launcher/launcher.h"

struct elf_facts {
	bool is_elf, has_interp, is_go;
};

/* Reads exactly n bytes at off; returns 0 or -1. */
static int read_at(int fd, void *buf, size_t n, off_t off)
{
	return pread(fd, buf, n, off) == (ssize_t)n ? 0 : -1;
}

/* Tells whether a section called name exists, given the section table. */
static bool has_section(int fd, const Elf64_Shdr *sh, size_t shnum, size_t shstrndx,
			const char *name)
{
	size_t len = strlen(name) + 1;
	char buf[32];

	if (shstrndx >= shnum || len > sizeof(buf))
		return false;
	for (size_t i = 0; i < shnum; i++)
		if (read_at(fd, buf, len, (off_t)(sh[shstrndx].sh_offset + sh[i].sh_name)) == 0 &&
		    !memcmp(buf, name, len))
			return true;
	return false;
}

/* Fills f from a 64-bit ELF file (the only kind this launcher's targets use). */
static void inspect64(int fd, struct elf_facts *f)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	Elf64_Shdr *sh;

	if (read_at(fd, &eh, sizeof(eh), 0))
		return;
	for (unsigned i = 0; i < eh.e_phnum && i < 4096; i++)
		if (read_at(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + i * eh.e_phentsize)) == 0 &&
		    ph.p_type == PT_INTERP)
			f->has_interp = true;
	if (!eh.e_shnum || eh.e_shnum > 4096 || eh.e_shentsize != sizeof(Elf64_Shdr))
		return;
	sh = calloc(eh.e_shnum, sizeof(*sh));
	if (sh && read_at(fd, sh, eh.e_shnum * sizeof(*sh), (off_t)eh.e_shoff) == 0)
		f->is_go = has_section(fd, sh, eh.e_shnum, eh.e_shstrndx, ".go.buildinfo") ||
			   has_section(fd, sh, eh.e_shnum, eh.e_shstrndx, ".note.go.buildid");
	free(sh);
}

static void inspect(const char *path, struct elf_facts *f)
{
	unsigned char ident[EI_NIDENT];
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	memset(f, 0, sizeof(*f));
	if (fd < 0)
		return;
	if (read_at(fd, ident, sizeof(ident), 0) == 0 && !memcmp(ident, ELFMAG, SELFMAG)) {
		f->is_elf = true;
		f->has_interp = true;	/* assume reachable unless shown otherwise */
		if (ident[EI_CLASS] == ELFCLASS64) {
			f->has_interp = false;
			inspect64(fd, f);
		}
	}
	close(fd);
}

void bs_warn_unreachable(const char *path, bool enforced)
{
	struct elf_facts f;
	struct stat st;
	bool privileged = stat(path, &st) == 0 && (st.st_mode & (S_ISUID | S_ISGID));
	bool caps = !privileged && getxattr(path, "security.capability", NULL, 0) > 0;

	if (enforced) {
		/* The supervisor sees every bind; only the privileges are lost. */
		if (privileged || caps)
			fprintf(stderr, "bindshim run: warning: %s is %s: under --enforce (no_new_privs) "
				"it runs without those privileges\n", path,
				privileged ? "setuid/setgid" : "given file capabilities");
		return;
	}
	if (privileged || caps)
		fprintf(stderr, "bindshim run: warning: %s %s: the dynamic loader ignores LD_PRELOAD "
			"for it, so its binds are not judged (--enforce judges them, without those "
			"privileges)\n", path, privileged ? "is setuid/setgid" : "has file capabilities");
	inspect(path, &f);
	if (f.is_elf && !f.has_interp)
		fprintf(stderr, "bindshim run: warning: %s is statically linked: a preloaded "
			"library cannot reach its binds; use --enforce\n", path);
	else if (f.is_go)
		fprintf(stderr, "bindshim run: warning: %s is a Go program: Go makes its socket "
			"syscalls directly, so a preloaded library cannot reach its binds; use "
			"--enforce\n", path);
}
