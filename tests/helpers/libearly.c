/* A library whose constructor binds, as some libraries do at load time: it may run
 * before the shim's own constructor, so the shim must be ready without it. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

__attribute__((visibility("default"))) char bs_early_result[128] = "not run";

__attribute__((constructor)) static void early_bind(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	const char *port = getenv("BS_EARLY_PORT");
	char ip[INET_ADDRSTRLEN];
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sin.sin_port = htons((uint16_t)(port ? atoi(port) : 0));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		snprintf(bs_early_result, sizeof(bs_early_result), "bind failed");
		return;
	}
	getsockname(fd, (struct sockaddr *)&sin, &len);
	inet_ntop(AF_INET, &sin.sin_addr, ip, sizeof(ip));
	snprintf(bs_early_result, sizeof(bs_early_result), "%s %u", ip, ntohs(sin.sin_port));
}
