/* How the helper programs report what happened: an errno's name, where a socket
 * really is. Header-only: each helper is one program, built dynamically and
 * statically from its own source. */
#ifndef BS_HELPERS_REPORT_H
#define BS_HELPERS_REPORT_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* Returns the name of errno value e ("EACCES"), or "?". */
static inline const char *ename(int e)
{
	const char *n = strerrorname_np(e);

	return n ? n : "?";
}

/* Formats the local address of fd as "ADDR PORT" into buf ("? 0" if it has none);
 * returns buf. */
static inline const char *local(int fd, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char ip[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET) {
			inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, ip, sizeof(ip));
			port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		} else if (ss.ss_family == AF_INET6) {
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, ip, sizeof(ip));
			port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		}
	}
	snprintf(buf, len, "%s %u", ip, port);
	return buf;
}

#endif
