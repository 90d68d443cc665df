/*
 * The owners map (bs_owners): the subordinate uid ranges of a subuid(5) file, as
 * the aligned blocks the program's LPM trie looks a uid up in. The file is read
 * (user names looked up) before the pin directory is locked; the map is written
 * at enable and at each reload, the new blocks before the stale ones go, so that
 * no range is uncounted in between (stale ones first only where the trie has no
 * room for both).
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "kernel/loader.h"

/* A user name's uid (the files and NSS, as newuidmap does); 0 or -ENOENT. */
static int name_uid(const char *name, __u32 *uid)
{
	struct passwd *pw = getpwnam(name);

	if (!pw)
		return -ENOENT;
	*uid = (__u32)pw->pw_uid;
	return 0;
}

/* The order of owner keys for qsort and bsearch (their bytes'). */
static int key_order(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct bs_kowner_key));
}

/* Adds the blocks of range r (the nth) to o; false when the trie could not hold
 * them all. */
static bool add_range(struct bs_kowners *o, const struct bs_kowned *r, __u32 nth)
{
	struct bs_kowner_key b[64];
	size_t nb = bs_kowned_blocks(r->first, r->count, b);

	if (o->n + nb > BS_KMAX_OWNED)
		return false;
	for (size_t i = 0; i < nb; i++)
		o->e[o->n++] = (struct bs_kowner){b[i], r->owner, nth};
	o->ranges++;
	return true;
}

int bs_kowners_read(const char *file, bool missing_ok, struct bs_kowners *o)
{
	FILE *f = bs_open_regular(file);
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned lineno = 0;
	bool full = false;

	memset(o, 0, sizeof(*o));
	if (!f && errno == ENOENT && missing_ok)
		return 0;
	if (!f) {
		fprintf(stderr, "bindshim system: %s: %s (subordinate uids: a regular file, "
			"subuid(5))\n", file, errno == EINVAL ? "not a regular file" : strerror(errno));
		return -1;
	}
	o->e = calloc(BS_KMAX_OWNED, sizeof(*o->e));
	while (o->e && (len = getline(&line, &cap, f)) >= 0) {
		struct bs_kowned r;
		int rc;

		lineno++;
		if (len && line[len - 1] == '\n')
			len--;
		rc = bs_kowned_line(line, (size_t)len, &r, name_uid);
		if (rc < 0)
			fprintf(stderr, "bindshim system: warning: %s:%u: %s; its uids count as "
				"themselves\n", file, lineno, rc == -ENOENT ? "no such user"
				: "not OWNER:FIRST:COUNT");
		else if (rc && !full && !add_range(o, &r, (__u32)o->ranges))
			full = true;
		if (rc > 0 && full)
			fprintf(stderr, "bindshim system: warning: %s:%u: more ranges than kernel "
				"mode holds (%d blocks); its uids count as themselves\n", file,
				lineno, BS_KMAX_OWNED);
	}
	if (!o->e || ferror(f)) {
		fprintf(stderr, "bindshim system: %s: %s\n", file, o->e ? strerror(errno)
			: "out of memory");
		free(line);
		fclose(f);
		bs_kowners_free(o);
		return -1;
	}
	free(line);
	fclose(f);
	return 0;
}

void bs_kowners_free(struct bs_kowners *o)
{
	free(o->e);
	memset(o, 0, sizeof(*o));
}

/* Removes from the map fd every key that is not among the n sorted keys (deleted
 * after the walk, which a deletion would send back to the start). */
static int remove_others(int fd, const struct bs_kowner_key *keys, size_t n)
{
	struct bs_kowner_key *gone = calloc(BS_KMAX_OWNED, sizeof(*gone)), cur, next;
	size_t ngone = 0;
	bool first = true;

	if (!gone)
		return -ENOMEM;
	while (ngone < BS_KMAX_OWNED &&
	       bpf_map_get_next_key(fd, first ? NULL : &cur, &next) == 0) {
		first = false;
		cur = next;
		if (!bsearch(&cur, keys, n, sizeof(*keys), key_order))
			gone[ngone++] = cur;
	}
	for (size_t i = 0; i < ngone; i++)
		bpf_map_delete_elem(fd, &gone[i]);
	free(gone);
	return 0;
}

/* Puts every block of o not marked done into the map fd, marking those that went
 * in; returns how many did not. */
static size_t put(int fd, const struct bs_kowners *o, bool *done)
{
	size_t left = 0;

	for (size_t i = 0; i < o->n; i++) {
		if (!done[i] && bpf_map_update_elem(fd, &o->e[i].key, &o->e[i].owner, BPF_ANY))
			left++;
		else
			done[i] = true;
	}
	return left;
}

int bs_kowners_write(const struct bs_kpins *p, const struct bs_kowners *o, size_t *ranges)
{
	int fd = p->fd[BS_KM_OWNERS], rc = -ENOMEM;
	struct bs_kowner_key *keys = calloc(o->n + 1, sizeof(*keys));
	bool *done = calloc(o->n + 1, sizeof(*done)), *lost = calloc(o->ranges + 1, 1);
	size_t left;

	*ranges = 0;
	if (!keys || !done || !lost)
		goto out;
	for (size_t i = 0; i < o->n; i++)
		keys[i] = o->e[i].key;
	qsort(keys, o->n, sizeof(*keys), key_order);
	left = put(fd, o, done);
	rc = remove_others(fd, keys, o->n);
	if (!rc && left)		/* no room for old and new: the stale ones went first */
		left = put(fd, o, done);
	for (size_t i = 0; i < o->n; i++)
		if (!done[i])
			lost[o->e[i].range] = true;
	for (size_t i = 0; i < o->ranges; i++)
		*ranges += !lost[i];
	if (!rc && left)
		fprintf(stderr, "bindshim system: warning: %zu subordinate uid range%s could not "
			"be stored; %s uids count as themselves\n", o->ranges - *ranges,
			o->ranges - *ranges == 1 ? "" : "s", o->ranges - *ranges == 1 ? "its" : "their");
out:
	free(keys);
	free(done);
	free(lost);
	return rc;
}
