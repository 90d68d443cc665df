/* The kernel program's decision, run in user space over compiled tables: the same
 * C as the program (kernel/kdecide.h), for `explain --kernel` and the tests. */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "kernel/kernel.h"

struct bs_kenv {
	const struct bs_ktables *t;
	struct bs_kgen hdr;
};

#define BS_KINLINE static inline
#define BS_KGLOBAL static
#define BS_K_RULE(env, i) ((size_t)(i) < (env)->t->nrules ? &(env)->t->rules[(i)] : NULL)
#define BS_K_PAT(env, i) ((size_t)(i) < (env)->t->npats ? &(env)->t->pats[(i)] : NULL)
#define BS_K_LOOP(n, cb, ctx) do { \
		for (__u32 i_ = 0; i_ < (__u32)(n); i_++) \
			if ((cb)(i_, (ctx))) \
				break; \
	} while (0)

#include "kernel/kdecide.h"

_Static_assert(BS_KA_ALLOW == BS_ALLOW && BS_KA_DENY == BS_DENY &&
	       BS_KA_REWRITE == BS_REWRITE && BS_KA_LOG == BS_LOG, "actions");
_Static_assert(BS_KAF_INET == AF_INET && BS_KAF_INET6 == AF_INET6, "families");
_Static_assert(BS_KEADDRNOTAVAIL == EADDRNOTAVAIL, "errno");

void bs_kjudge(const struct bs_ktables *t, struct bs_kquery *q, const struct bs_ksa *from,
	       int v6only, struct bs_kout *o)
{
	struct bs_kenv env = {t, t->hdr};

	memset(o, 0, sizeof(*o));
	bs_k_judge(&env, q, from, v6only, o);
}

bool bs_kglob(const struct bs_kpat *p, const char *comm)
{
	return bs_k_glob(p, comm);
}

void bs_ksa_from(struct bs_ksa *k, const struct sockaddr_storage *ss)
{
	memset(k, 0, sizeof(*k));
	k->family = ss->ss_family;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)ss;

		k->port = ntohs(s->sin_port);
		memcpy(k->addr, &s->sin_addr, 4);
	} else {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)ss;

		k->port = ntohs(s->sin6_port);
		k->scope = s->sin6_scope_id;
		memcpy(k->addr, &s->sin6_addr, 16);
	}
}

void bs_ksa_to(struct sockaddr_storage *ss, const struct bs_ksa *k)
{
	memset(ss, 0, sizeof(*ss));
	ss->ss_family = k->family;
	if (k->family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)ss;

		s->sin_port = htons(k->port);
		memcpy(&s->sin_addr, k->addr, 4);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;

		s->sin6_port = htons(k->port);
		s->sin6_scope_id = k->scope;
		memcpy(&s->sin6_addr, k->addr, 16);
	}
}
