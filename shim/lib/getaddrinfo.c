/* getaddrinfo(): passive lookups (no node and AI_PASSIVE, or a wildcard literal)
 * get their wildcard results rewritten in place as bind() would rewrite them, so a
 * program prints and uses the address it will really have. Only libc's own list is
 * touched, entry by entry, same family and size: freeaddrinfo() stays libc's. */
#include <arpa/inet.h>
#include <errno.h>
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
	if (bs_judge(-1, &j) == BS_USE_TO && j.o.to.ss_family == j.from.ss_family)
		memcpy(ai->ai_addr, &j.o.to, bs_sockaddr_len(&j.o.to));
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
