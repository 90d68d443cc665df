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

/* Headers read per pread (on the stack), and the most of the section name table
 * read: an exec hook looks at every program started, so a few reads in all. */
#define BS_HDR_CHUNK 32
#define BS_SHSTR_MAX 4096

/* Tells whether a program header table has PT_INTERP (a dynamic loader). */
static bool has_interp(int fd, const Elf64_Ehdr *eh)
{
	Elf64_Phdr ph[BS_HDR_CHUNK];

	if (eh->e_phentsize != sizeof(Elf64_Phdr))
		return false;
	for (unsigned i = 0; i < eh->e_phnum && i < 4096; i += BS_HDR_CHUNK) {
		unsigned n = eh->e_phnum - i < BS_HDR_CHUNK ? eh->e_phnum - i : BS_HDR_CHUNK;

		if (read_at(fd, ph, n * sizeof(ph[0]), (off_t)(eh->e_phoff + i * sizeof(ph[0]))))
			return false;
		for (unsigned k = 0; k < n; k++)
			if (ph[k].p_type == PT_INTERP)
				return true;
	}
	return false;
}

/* Tells whether name, an offset into the section name table names (len bytes,
 * NUL-terminated), is one of a Go program's sections. */
static bool go_section(const char *names, size_t len, Elf64_Word name)
{
	return name < len && (!strcmp(names + name, ".go.buildinfo") ||
			      !strcmp(names + name, ".note.go.buildid"));
}

/* Tells whether the section header table has a section only Go's linker writes. */
static bool has_go_sections(int fd, const Elf64_Ehdr *eh)
{
	Elf64_Shdr sh[BS_HDR_CHUNK], strtab;
	char names[BS_SHSTR_MAX + 1];
	ssize_t len;

	if (!eh->e_shnum || eh->e_shnum > 4096 || eh->e_shentsize != sizeof(Elf64_Shdr) ||
	    eh->e_shstrndx >= eh->e_shnum ||
	    read_at(fd, &strtab, sizeof(strtab), (off_t)(eh->e_shoff + eh->e_shstrndx * sizeof(strtab))))
		return false;
	len = pread(fd, names, strtab.sh_size < BS_SHSTR_MAX ? strtab.sh_size : BS_SHSTR_MAX,
		    (off_t)strtab.sh_offset);
	if (len <= 0)
		return false;
	names[len] = '\0';
	for (unsigned i = 0; i < eh->e_shnum; i += BS_HDR_CHUNK) {
		unsigned n = eh->e_shnum - i < BS_HDR_CHUNK ? eh->e_shnum - i : BS_HDR_CHUNK;

		if (read_at(fd, sh, n * sizeof(sh[0]), (off_t)(eh->e_shoff + i * sizeof(sh[0]))))
			return false;
		for (unsigned k = 0; k < n; k++)
			if (go_section(names, (size_t)len, sh[k].sh_name))
				return true;
	}
	return false;
}

/* Fills f from a 64-bit ELF header. */
static void inspect64(int fd, const Elf64_Ehdr *eh, struct bs_exe_facts *f)
{
	f->dynamic = has_interp(fd, eh);
	f->go = has_go_sections(fd, eh);
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
	f->setid = changes_ids(st);
	/* Root's own exec with file capabilities is not a secure one. */
	f->caps = !f->setid && fd >= 0 && getuid() != 0 &&
		  fgetxattr(fd, "security.capability", NULL, 0) > 0;
	/* A nosuid mount ignores both the bits and file capabilities. */
	if ((f->setid || f->caps) && fd >= 0 && fstatvfs(fd, &vfs) == 0 &&
	    (vfs.f_flag & ST_NOSUID))
		f->setid = f->caps = false;
}

int bs_exe_inspect(const char *path, struct bs_exe_facts *f)
{
	Elf64_Ehdr eh;
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
	/* The identification, and a 64-bit header with it (a shorter file is no
	 * 64-bit ELF file). */
	memset(&eh, 0, sizeof(eh));
	if (pread(fd, &eh, sizeof(eh), 0) >= EI_NIDENT && !memcmp(eh.e_ident, ELFMAG, SELFMAG)) {
		f->elf = true;
		f->is32 = eh.e_ident[EI_CLASS] == ELFCLASS32;
		/* 32-bit headers are not read: such programs are refused or warned about
		 * for being 32-bit. */
		if (eh.e_ident[EI_CLASS] == ELFCLASS64)
			inspect64(fd, &eh, f);
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
