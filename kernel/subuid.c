/*
 * The owners map (bs_owners): the subordinate uid ranges of a subuid(5) file, as
 * the aligned blocks the program's LPM trie looks a uid up in. Written at enable
 * and at each reload; a reload adds the new blocks before it removes the ones no
 * longer there, so that no range is uncounted in between.
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

static int key_order(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct bs_kowner_key));
}

/* Removes from the map fd every key that is not among the n sorted keys (deleted
 * after the walk, which a deletion would send back to the start). */
static void remove_others(int fd, const struct bs_kowner_key *keys, size_t n)
{
	struct bs_kowner_key *gone = calloc(BS_KMAX_OWNED, sizeof(*gone)), cur, next;
	size_t ngone = 0;
	bool first = true;

	while (gone && ngone < BS_KMAX_OWNED &&
	       bpf_map_get_next_key(fd, first ? NULL : &cur, &next) == 0) {
		first = false;
		cur = next;
		if (!bsearch(&cur, keys, n, sizeof(*keys), key_order))
			gone[ngone++] = cur;
	}
	for (size_t i = 0; i < ngone; i++)
		bpf_map_delete_elem(fd, &gone[i]);
	free(gone);
}

/* Adds the blocks of r to keys (room for BS_KMAX_OWNED) and to the map fd;
 * returns false when there is no room left. */
static bool add_range(int fd, const struct bs_kowned *r, struct bs_kowner_key *keys, size_t *n)
{
	struct bs_kowner_key b[64];
	size_t nb = bs_kowned_blocks(r->first, r->count, b);

	if (*n + nb > BS_KMAX_OWNED)
		return false;
	for (size_t i = 0; i < nb; i++)
		if (bpf_map_update_elem(fd, &b[i], &r->owner, BPF_ANY) == 0)
			keys[(*n)++] = b[i];
	return true;
}

int bs_kowners_write(const struct bs_kpins *p, const char *file, size_t *ranges)
{
	FILE *f = fopen(file, "re");
	struct bs_kowner_key *keys = calloc(BS_KMAX_OWNED, sizeof(*keys));
	char *line = NULL;
	size_t cap = 0, n = 0;
	ssize_t len;
	unsigned lineno = 0;

	*ranges = 0;
	if (!keys) {
		if (f)
			fclose(f);
		return -ENOMEM;
	}
	if (!f && errno != ENOENT)
		fprintf(stderr, "bindshim system: warning: %s: %s; every uid counts as itself\n",
			file, strerror(errno));
	while (f && (len = getline(&line, &cap, f)) >= 0) {
		struct bs_kowned r;
		int rc;

		lineno++;
		if (len && line[len - 1] == '\n')
			len--;
		rc = bs_kowned_line(line, (size_t)len, &r, name_uid);
		if (rc < 0) {
			fprintf(stderr, "bindshim system: warning: %s:%u: %s; its uids count as "
				"themselves\n", file, lineno, rc == -ENOENT ? "no such user"
				: "not OWNER:FIRST:COUNT");
		} else if (rc && !add_range(p->fd[BS_KM_OWNERS], &r, keys, &n)) {
			fprintf(stderr, "bindshim system: warning: %s:%u: more ranges than kernel "
				"mode holds; from here on uids count as themselves\n", file, lineno);
			break;
		} else if (rc) {
			(*ranges)++;
		}
	}
	free(line);
	if (f)
		fclose(f);
	qsort(keys, n, sizeof(*keys), key_order);
	remove_others(p->fd[BS_KM_OWNERS], keys, n);
	free(keys);
	return 0;
}
