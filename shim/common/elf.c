/*
 * Can a preloaded library reach this executable? The dynamic loader ignores
 * LD_PRELOAD (from untrusted directories) in a secure exec: a setuid or setgid
 * executable that changes the caller's ids, or one with file capabilities started
 * by anyone but root; a static executable has no dynamic loader at all; Go programs
 * make their socket syscalls directly, not through libc. Reads only headers, a few
 * preads, and allocates nothing.
 */
#include <elf.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "policy/sys.h"
#include "shim/common/elf.h"

/* Reads exactly n bytes at off; returns 0 or -1. */
static int read_at(int fd, void *buf, size_t n, off_t off)
{
	return pread(fd, buf, n, off) == (ssize_t)n ? 0 : -1;
}

/* Tells whether section i of the table at shoff is named name. */
static bool section_named(int fd, const Elf64_Ehdr *eh, const Elf64_Shdr *strtab, size_t i,
			  const char *name)
{
	Elf64_Shdr sh;
	size_t len = strlen(name) + 1;
	char buf[32];

	return len <= sizeof(buf) &&
	       read_at(fd, &sh, sizeof(sh), (off_t)(eh->e_shoff + i * sizeof(sh))) == 0 &&
	       read_at(fd, buf, len, (off_t)(strtab->sh_offset + sh.sh_name)) == 0 &&
	       !memcmp(buf, name, len);
}

/* Fills f from a 64-bit ELF header. */
static void inspect64(int fd, struct bs_exe_facts *f)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	Elf64_Shdr strtab;

	if (read_at(fd, &eh, sizeof(eh), 0))
		return;
	for (unsigned i = 0; i < eh.e_phnum && i < 4096; i++)
		if (read_at(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + i * eh.e_phentsize)) == 0 &&
		    ph.p_type == PT_INTERP)
			f->dynamic = true;
	if (!eh.e_shnum || eh.e_shnum > 4096 || eh.e_shentsize != sizeof(Elf64_Shdr) ||
	    eh.e_shstrndx >= eh.e_shnum ||
	    read_at(fd, &strtab, sizeof(strtab), (off_t)(eh.e_shoff + eh.e_shstrndx * sizeof(strtab))))
		return;
	for (size_t i = 0; i < eh.e_shnum && !f->go; i++)
		f->go = section_named(fd, &eh, &strtab, i, ".go.buildinfo") ||
			section_named(fd, &eh, &strtab, i, ".note.go.buildid");
}

/* Tells whether executing st makes a secure exec by its set-id bits: the kernel
 * then runs it with ids other than the caller's real ones (a setgid bit without
 * group execute is a locking mark, not setgid). */
static bool changes_ids(const struct stat *st)
{
	return ((st->st_mode & S_ISUID) && st->st_uid != getuid()) ||
	       ((st->st_mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP) &&
		st->st_gid != getgid());
}

/* Fills f's identity and privilege facts from st, for the open file fd or, with fd
 * -1, for a file that cannot be read (setuid programs may be execute-only). */
static void inspect_privileges(int fd, const struct stat *st, struct bs_exe_facts *f)
{
	struct statvfs vfs;

	f->dev = st->st_dev;
	f->ino = st->st_ino;
	/* A nosuid mount ignores both the bits and file capabilities. */
	if (fd >= 0 && fstatvfs(fd, &vfs) == 0 && (vfs.f_flag & ST_NOSUID))
		return;
	f->setid = changes_ids(st);
	/* Root's own exec with file capabilities is not a secure one. */
	f->caps = !f->setid && fd >= 0 && getuid() != 0 &&
		  fgetxattr(fd, "security.capability", NULL, 0) > 0;
}

int bs_exe_inspect(const char *path, struct bs_exe_facts *f)
{
	unsigned char ident[EI_NIDENT];
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	memset(f, 0, sizeof(*f));
	if (fd < 0) {
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
			return -1;
		inspect_privileges(-1, &st, f);
		return 0;
	}
	if (fstat(fd, &st) == 0)
		inspect_privileges(fd, &st, f);
	if (read_at(fd, ident, sizeof(ident), 0) == 0 && !memcmp(ident, ELFMAG, SELFMAG)) {
		f->elf = true;
		f->is32 = ident[EI_CLASS] == ELFCLASS32;
		/* 32-bit headers are not read: such programs are refused or warned about
		 * for being 32-bit. */
		if (ident[EI_CLASS] == ELFCLASS64)
			inspect64(fd, f);
		else
			f->dynamic = true;
	}
	/* not close(): inside the shim that is a hook */
	bs_sys_close(fd);
	return 0;
}

const char *bs_exe_unreachable(const struct bs_exe_facts *f)
{
	if (f->setid)
		return "is setuid or setgid";
	if (f->caps)
		return "has file capabilities";
	/* A Go program is static as often as not: say the more telling. */
	if (f->go)
		return "is a Go program";
	if (f->elf && !f->dynamic)
		return "is statically linked";
	return NULL;
}
