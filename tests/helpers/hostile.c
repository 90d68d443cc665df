/*
 * hostile: calls bind, listen, connect, sendto and getaddrinfo with bad arguments
 * and prints "case: result errno" for each. The tests run it natively and under the
 * shim and require the same output: for these calls the shim must change nothing.
 * Inet calls that succeed use loopback addresses, which no policy here rewrites.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static void say(const char *name, int rc)
{
	printf("%-28s %d %s\n", name, rc, rc < 0 ? strerrorname_np(errno) : "-");
	fflush(stdout);
}

static struct sockaddr_in v4(const char *ip, unsigned port)
{
	struct sockaddr_in s = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};

	inet_pton(AF_INET, ip, &s.sin_addr);
	return s;
}

static struct sockaddr_in6 v6(const char *ip, unsigned port)
{
	struct sockaddr_in6 s = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};

	inet_pton(AF_INET6, ip, &s.sin6_addr);
	return s;
}

#define SA(x) ((struct sockaddr *)&(x))

static int tcp4(void)
{
	return socket(AF_INET, SOCK_STREAM, 0);
}

static int tcp6(void)
{
	return socket(AF_INET6, SOCK_STREAM, 0);
}

static void binds(void)
{
	struct sockaddr_in any4 = v4("0.0.0.0", 0), lo4 = v4("127.0.0.1", 0);
	struct sockaddr_in6 any6 = v6("::", 0), lo6 = v6("::1", 0);
	struct sockaddr_storage big;
	struct sockaddr_in unspec = any4, unspec_ip = v4("192.0.2.1", 0);
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct sockaddr_nl snl = {.nl_family = AF_NETLINK};
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(0x0003)};
	char huge[256];
	int fd, nul = open("/dev/null", O_RDONLY);

	unspec.sin_family = AF_UNSPEC;
	unspec_ip.sin_family = AF_UNSPEC;
	say("bind null address", bind(tcp4(), NULL, sizeof(any4)));
	say("bind null address len 0", bind(tcp4(), NULL, 0));
	say("bind len 0", bind(tcp4(), SA(any4), 0));
	say("bind len 1", bind(tcp4(), SA(any4), 1));
	say("bind len 2", bind(tcp4(), SA(any4), 2));
	say("bind v4 len 15", bind(tcp4(), SA(any4), 15));
	say("bind v6 len 23", bind(tcp6(), SA(any6), 23));
	say("bind v6 len 24 (rfc2133)", bind(tcp6(), SA(lo6), 24));
	memset(&big, 0, sizeof(big));
	memcpy(&big, &lo4, sizeof(lo4));
	say("bind v4 len storage", bind(tcp4(), SA(big), sizeof(big)));
	memset(huge, 0, sizeof(huge));
	memcpy(huge, &any4, sizeof(any4));
	say("bind v4 len 256", bind(tcp4(), (struct sockaddr *)huge, sizeof(huge)));
	say("bind v4 addr on v6 socket", bind(tcp6(), SA(any4), sizeof(any4)));
	say("bind v6 addr on v4 socket", bind(tcp4(), SA(any6), sizeof(any6)));
	say("bind unspec nonzero on v4", bind(tcp4(), SA(unspec_ip), sizeof(unspec_ip)));
	say("bind unspec on v6", bind(tcp6(), SA(unspec), sizeof(unspec)));
	say("bind bad fd -1", bind(-1, SA(any4), sizeof(any4)));
	say("bind bad fd 9999", bind(9999, SA(any4), sizeof(any4)));
	say("bind not a socket", bind(nul, SA(any4), sizeof(any4)));
	fd = tcp4();
	say("bind first", bind(fd, SA(lo4), sizeof(lo4)));
	say("bind already bound", bind(fd, SA(any4), sizeof(any4)));
	say("bind unix", bind(socket(AF_UNIX, SOCK_STREAM, 0), SA(sun), sizeof(sa_family_t)));
	say("bind v4 addr on unix", bind(socket(AF_UNIX, SOCK_STREAM, 0), SA(any4), sizeof(any4)));
	say("bind netlink", bind(socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE), SA(snl), sizeof(snl)));
	sll.sll_ifindex = (int)if_nametoindex("lo");
	say("bind packet", bind(socket(AF_PACKET, SOCK_DGRAM, 0), SA(sll), sizeof(sll)));
	say("bind raw v4 wildcard", bind(socket(AF_INET, SOCK_RAW, IPPROTO_UDP), SA(any4), sizeof(any4)));
	say("bind v6 on v6 with v4 len", bind(tcp6(), SA(lo6), sizeof(lo4)));
}

static void listens(void)
{
	struct sockaddr_in lo4 = v4("127.0.0.1", 0);
	int nul = open("/dev/null", O_RDONLY), fd = tcp4();

	say("listen bad fd -1", listen(-1, 1));
	say("listen bad fd 9999", listen(9999, 1));
	say("listen not a socket", listen(nul, 1));
	say("listen udp", listen(socket(AF_INET, SOCK_DGRAM, 0), 1));
	say("listen unix unbound", listen(socket(AF_UNIX, SOCK_STREAM, 0), 1));
	bind(fd, SA(lo4), sizeof(lo4));
	say("listen bound", listen(fd, -1));
	say("listen twice", listen(fd, 5));
}

static void connects(void)
{
	struct sockaddr_in lo4 = v4("127.0.0.1", 9);

	say("connect null", connect(tcp4(), NULL, sizeof(lo4)));
	say("connect len 0", connect(tcp4(), SA(lo4), 0));
	say("connect bad fd", connect(-1, SA(lo4), sizeof(lo4)));
	say("connect refused", connect(tcp4(), SA(lo4), sizeof(lo4)));
	say("sendto null addr unconnected",
	    (int)sendto(socket(AF_INET, SOCK_DGRAM, 0), "x", 1, 0, NULL, 0));
	say("sendto bad len", (int)sendto(socket(AF_INET, SOCK_DGRAM, 0), "x", 1, 0, SA(lo4), 3));
	say("sendto bad fd", (int)sendto(-1, "x", 1, 0, SA(lo4), sizeof(lo4)));
	say("sendmsg null msg", (int)sendmsg(socket(AF_INET, SOCK_DGRAM, 0), NULL, 0));
	say("sendmmsg null vec", sendmmsg(socket(AF_INET, SOCK_DGRAM, 0), NULL, 1, 0));
}

/* Prints the rc and each address of a getaddrinfo call. */
static void gai(const char *name, const char *node, const char *svc, const struct addrinfo *h)
{
	struct addrinfo *res = NULL;
	int rc = getaddrinfo(node, svc, h, &res);

	printf("%-28s %d", name, rc);
	for (struct addrinfo *ai = rc ? NULL : res; ai; ai = ai->ai_next) {
		char ip[INET6_ADDRSTRLEN] = "?";

		if (ai->ai_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, ip, sizeof(ip));
		else if (ai->ai_family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, ip, sizeof(ip));
		printf(" %s", ip);
	}
	printf("\n");
	if (!rc)
		freeaddrinfo(res);
}

static void lookups(void)
{
	struct addrinfo h = {.ai_socktype = SOCK_STREAM};

	gai("gai null null", NULL, NULL, NULL);
	gai("gai null hints", NULL, "80", NULL);
	gai("gai not passive", NULL, "80", &h);
	h.ai_flags = 0xffff;
	gai("gai bad flags", NULL, "80", &h);
	h.ai_flags = AI_PASSIVE;
	h.ai_socktype = 99;
	gai("gai bad socktype", NULL, "80", &h);
	h.ai_socktype = SOCK_STREAM;
	h.ai_family = 12345;
	gai("gai bad family", NULL, "80", &h);
	h.ai_family = AF_UNSPEC;
	gai("gai empty node", "", "80", &h);
	h.ai_flags = AI_PASSIVE | AI_NUMERICHOST;
	gai("gai passive numeric host", "192.0.2.1", "80", &h);
	gai("gai passive bad service", NULL, "no-such-service-x", &h);
}

int main(void)
{
	binds();
	listens();
	connects();
	lookups();
	return 0;
}
