/* getaddrinfo(): passive lookups (no node and AI_PASSIVE, or a wildcard literal)
 * get their wildcard results rewritten in place as bind() would rewrite them, so a
 * program prints and uses the address it will really have. Only libc's own list is
 * touched, entry by entry, same family and size: freeaddrinfo() stays libc's.
 *
 * The decision is made here but takes effect when the program binds the result:
 * the last rewritten results are remembered, and bind() of one of them continues
 * the decision (one record, written then; the IPv6 wildcard's loopback chosen for
 * that socket's IPV6_V6ONLY). A lookup whose result is never bound leaves no record. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdatomic.h>
#include <netinet/in.h>
#include <string.h>

#include "shim/lib/shim.h"

/* Tells whether node names the wildcard (0.0.0.0, "0", ::, ::ffff:0.0.0.0). */
static bool node_is_wildcard(const char *node)
{
	struct in_addr a4;
	struct in6_addr a6;
	struct bs_addr a = {.family = AF_INET6};

	if (inet_aton(node, &a4))
		return a4.s_addr == htonl(INADDR_ANY);
	if (inet_pton(AF_INET6, node, &a6) != 1)
		return false;
	memcpy(a.bytes, &a6, 16);
	bs_addr_fold(&a);
	return bs_addr_is_wildcard(&a);
}

#define BS_PRODUCED_MAX 16

/* Rewritten results: a ring, written under a try-lock (a signal handler that finds
 * it taken just does not remember, or does not find, an entry). */
static struct {
	struct sockaddr_in6 to, from;	/* IPv4 fits too */
} produced[BS_PRODUCED_MAX];
static unsigned next;
static atomic_uint count;
static atomic_flag busy;

/* Copies an inet sockaddr into a sockaddr_in6-sized slot. */
static void store(struct sockaddr_in6 *slot, const struct sockaddr_storage *ss)
{
	memset(slot, 0, sizeof(*slot));
	memcpy(slot, ss, bs_sockaddr_len(ss));
}

static void remember(const struct sockaddr_storage *to, const struct sockaddr_storage *from)
{
	if (atomic_flag_test_and_set_explicit(&busy, memory_order_acquire))
		return;
	store(&produced[next].to, to);
	store(&produced[next].from, from);
	next = (next + 1) % BS_PRODUCED_MAX;
	if (atomic_load_explicit(&count, memory_order_relaxed) < BS_PRODUCED_MAX)
		atomic_fetch_add_explicit(&count, 1, memory_order_relaxed);
	atomic_flag_clear_explicit(&busy, memory_order_release);
}

bool bs_lookup_produced(const struct sockaddr_storage *ss, struct sockaddr_storage *asked)
{
	bool found = false;
	unsigned n;

	/* Every judged bind asks: one load in a process that never had a rewrite. */
	if (!(n = atomic_load_explicit(&count, memory_order_acquire)) ||
	    atomic_flag_test_and_set_explicit(&busy, memory_order_acquire))
		return false;
	for (unsigned i = 0; i < n && !found; i++) {
		struct sockaddr_storage to;

		memset(&to, 0, sizeof(to));
		memcpy(&to, &produced[i].to, sizeof(produced[i].to));
		if (!bs_sockaddr_same(&to, ss))
			continue;
		memset(asked, 0, sizeof(*asked));
		memcpy(asked, &produced[i].from, sizeof(produced[i].from));
		found = true;
	}
	atomic_flag_clear_explicit(&busy, memory_order_release);
	return found;
}

/* Rewrites one result entry if the policy rewrites binds to its address. */
static void judge_entry(struct addrinfo *ai)
{
	struct bs_judgement j;

	bs_judgement_init(&j, "getaddrinfo");
	j.quiet = true;

	if (bs_sockaddr_copy(ai->ai_addr, ai->ai_addrlen, &j.from))
		return;
	j.proto = ai->ai_socktype == SOCK_DGRAM || ai->ai_protocol == IPPROTO_UDP ?
		  BS_PROTO_UDP : BS_PROTO_TCP;
	if (bs_judge(-1, &j) == BS_USE_TO && j.o.to.ss_family == j.from.ss_family) {
		memcpy(ai->ai_addr, &j.o.to, bs_sockaddr_len(&j.o.to));
		remember(&j.o.to, &j.from);
	}
}

static int bs_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
			  struct addrinfo **res)
{
	int rc, saved;

	bs_real_init();
	rc = bs_real.getaddrinfo(node, service, hints, res);
	if (rc != 0 || bs_busy || !res)
		return rc;
	if (node ? !node_is_wildcard(node) : !(hints && (hints->ai_flags & AI_PASSIVE)))
		return rc;
	saved = errno;
	for (struct addrinfo *ai = *res; ai; ai = ai->ai_next)
		if (ai->ai_addr && (ai->ai_family == AF_INET || ai->ai_family == AF_INET6))
			judge_entry(ai);
	errno = saved;
	return rc;
}

BS_EXPORT int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
			  struct addrinfo **res)
{
	return bs_getaddrinfo(node, service, hints, res);
}
