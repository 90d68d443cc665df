/*
 * bindshim audit: the listening TCP and bound UDP sockets of this network namespace
 * (/proc/net), with pid, program and user where visible, which of them are exposed
 * (on a wildcard or a non-loopback address), and what the current policy would have
 * done with each. Exit 1 when something is exposed, so cron and monitoring can act.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim/common/json.h"
#include "shim/launcher/policyopt.h"
#include "shim/launcher/system.h"

struct sock {
	unsigned proto;			/* BS_PROTO_* */
	struct sockaddr_storage local;
	uid_t uid;
	unsigned long inode;
	pid_t pid;			/* 0: not visible */
	char program[64];
	char exe[PATH_MAX];
	char user[64];
	bool exposed;
	struct bs_outcome o;
};

struct socks {
	struct sock *v;
	size_t n, cap;
};

/* Decodes a /proc/net address (8 or 32 hex digits, 32-bit words in host order). */
static int decode(const char *hex, unsigned port, struct sockaddr_storage *ss)
{
	unsigned char b[16];
	size_t n = strlen(hex) / 2;

	if (n != 4 && n != 16)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		/* x86 and the other little-endian machines print each word reversed */
		b[(i / 4) * 4 + 3 - i % 4] = (unsigned char)v;
	}
	memset(ss, 0, sizeof(*ss));
	if (n == 4) {
		struct sockaddr_in *s = (struct sockaddr_in *)ss;

		s->sin_family = AF_INET;
		memcpy(&s->sin_addr, b, 4);
		s->sin_port = htons((uint16_t)port);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;

		s->sin6_family = AF_INET6;
		memcpy(&s->sin6_addr, b, 16);
		s->sin6_port = htons((uint16_t)port);
	}
	return 0;
}

/* Reads one /proc/net table, keeping listening TCP / unconnected bound UDP sockets. */
static int read_table(const char *name, unsigned proto, struct socks *out)
{
	char path[64], line[512];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/net/%s", name);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -1;	/* no IPv6 in this kernel */
	while (fgets(line, sizeof(line), f)) {
		char local[40], remote[40];
		unsigned lport, rport, state;
		unsigned long uid, inode;
		struct sock s = {.proto = proto};

		if (sscanf(line, " %*d: %39[0-9A-F]:%x %39[0-9A-F]:%x %x %*s %*s %*s %lu %*d %lu",
			   local, &lport, remote, &rport, &state, &uid, &inode) != 7)
			continue;
		/* TCP: LISTEN (0x0A). UDP: bound (0x07) and not connected to a peer. */
		if (proto == BS_PROTO_TCP ? state != 0x0A : (state != 0x07 || rport != 0))
			continue;
		if (decode(local, lport, &s.local) < 0)
			continue;
		s.uid = (uid_t)uid;
		s.inode = inode;
		if (out->n == out->cap) {
			size_t cap = out->cap ? out->cap * 2 : 64;
			struct sock *v = realloc(out->v, cap * sizeof(*v));

			if (!v) {
				fclose(f);
				return -1;
			}
			out->v = v;
			out->cap = cap;
		}
		out->v[out->n++] = s;
	}
	fclose(f);
	return 0;
}

/* Finds which process holds each socket, by its inode, through /proc/PID/fd. */
static void find_owners(struct socks *ss)
{
	DIR *proc = opendir("/proc");
	struct dirent *p;

	while (proc && (p = readdir(proc))) {
		char dir[300];
		DIR *fds;
		struct dirent *fd;

		if (!isdigit((unsigned char)p->d_name[0]))
			continue;
		snprintf(dir, sizeof(dir), "/proc/%s/fd", p->d_name);
		fds = opendir(dir);	/* other users' processes: not visible unless root */
		while (fds && (fd = readdir(fds))) {
			char link[600], target[64];
			unsigned long inode;
			ssize_t n;

			snprintf(link, sizeof(link), "%s/%s", dir, fd->d_name);
			n = readlink(link, target, sizeof(target) - 1);
			if (n <= 0)
				continue;
			target[n] = '\0';
			if (sscanf(target, "socket:[%lu]", &inode) != 1)
				continue;
			for (size_t i = 0; i < ss->n; i++)
				if (ss->v[i].inode == inode && !ss->v[i].pid)
					ss->v[i].pid = atoi(p->d_name);
		}
		if (fds)
			closedir(fds);
	}
	if (proc)
		closedir(proc);
}

/* Fills program, exe and user of s from /proc and the user database. */
static void describe(struct sock *s)
{
	struct passwd pw, *res = NULL;
	char path[64], buf[2048];
	FILE *f;
	ssize_t n;

	if (getpwuid_r(s->uid, &pw, buf, sizeof(buf), &res) == 0 && res)
		snprintf(s->user, sizeof(s->user), "%s", res->pw_name);
	if (!s->pid)
		return;
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)s->pid);
	f = fopen(path, "re");
	if (f && fgets(s->program, sizeof(s->program), f))
		s->program[strcspn(s->program, "\n")] = '\0';
	if (f)
		fclose(f);
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)s->pid);
	n = readlink(path, s->exe, sizeof(s->exe) - 1);
	s->exe[n > 0 ? n : 0] = '\0';
}

/* Judges s as if it were bound now, under the selected policies. */
static void judge(const struct bs_layers *l, struct sock *s)
{
	struct bs_query q = {.proto = s->proto, .uid = s->uid,
			     .program = s->program[0] ? s->program : NULL,
			     .exe = s->exe[0] ? s->exe : NULL};

	bs_query_set_sockaddr(&q, &s->local);
	s->exposed = !bs_addr_is_loopback(&q.addr);
	bs_resolve_layered(l->system, l->user, &q, &s->local, &s->o);
}

/* "allow", "rewrite -> ADDR", or "deny ERRNO". */
static const char *verdict(const struct sock *s, char *buf, size_t len)
{
	char to[BS_ENDPOINT_MAX];

	if (s->o.err)
		snprintf(buf, len, "deny %s", bs_errno_name(s->o.err));
	else if (s->o.d.action == BS_REWRITE)
		snprintf(buf, len, "rewrite -> %s", bs_endpoint_format(&s->o.to, to, sizeof(to)));
	else
		snprintf(buf, len, "allow");
	return buf;
}

static void print_text(const struct socks *ss)
{
	char ep[BS_ENDPOINT_MAX], v[128], src[512], pid[16];

	printf("%-5s %-24s %-7s %-7s %-16s %-10s %s\n", "PROTO", "LOCAL", "EXPOSED", "PID",
	       "PROGRAM", "USER", "POLICY");
	for (size_t i = 0; i < ss->n; i++) {
		const struct sock *s = &ss->v[i];

		snprintf(pid, sizeof(pid), "%d", (int)s->pid);
		printf("%-5s %-24s %-7s %-7s %-16s %-10s %s (%s)\n",
		       s->proto == BS_PROTO_TCP ? "tcp" : "udp",
		       bs_endpoint_format(&s->local, ep, sizeof(ep)), s->exposed ? "yes" : "no",
		       s->pid ? pid : "-", s->program[0] ? s->program : "-",
		       s->user[0] ? s->user : "-", verdict(s, v, sizeof(v)),
		       bs_decision_source(s->o.policy, &s->o.d, src, sizeof(src)));
	}
}

/* Prints ,"key":"value" (or "key":"value" first) with value escaped. */
static void json_field(const char *key, const char *value, bool first)
{
	char buf[2 * BS_JSON_VALUE_MAX + 8];

	bs_json_string(buf, sizeof(buf), value);
	printf("%s\"%s\":%s", first ? "" : ",", key, buf);
}

static void print_json(const struct socks *ss)
{
	char ep[BS_ENDPOINT_MAX], v[128], src[512];

	printf("[");
	for (size_t i = 0; i < ss->n; i++) {
		const struct sock *s = &ss->v[i];

		printf("%s\n  {", i ? "," : "");
		json_field("proto", s->proto == BS_PROTO_TCP ? "tcp" : "udp", true);
		json_field("local", bs_endpoint_format(&s->local, ep, sizeof(ep)), false);
		printf(",\"exposed\":%s,\"uid\":%u", s->exposed ? "true" : "false", (unsigned)s->uid);
		if (s->user[0])
			json_field("user", s->user, false);
		if (s->pid) {
			printf(",\"pid\":%d", (int)s->pid);
			json_field("program", s->program, false);
		}
		json_field("policy", verdict(s, v, sizeof(v)), false);
		json_field("source", bs_decision_source(s->o.policy, &s->o.d, src, sizeof(src)), false);
		printf("}");
	}
	printf("%s]\n", ss->n ? "\n" : "");
}

int bs_cmd_audit(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"policy", required_argument, NULL, 'p'},
		{"loopback", no_argument, NULL, 'l'},
		{"to", required_argument, NULL, 't'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static const struct {
		const char *name;
		unsigned proto;
	} tables[] = {{"tcp", BS_PROTO_TCP}, {"tcp6", BS_PROTO_TCP}, {"udp", BS_PROTO_UDP},
		      {"udp6", BS_PROTO_UDP}};
	struct bs_policyopt po = {0};
	struct bs_layers layers;
	struct socks ss = {0};
	bool json = false, exposed = false;
	int c;

	while ((c = getopt_long(argc, argv, "p:lt:h", longopts, NULL)) != -1) {
		if (c == 'p' || c == 'l' || c == 't') {
			if (bs_policyopt_take(&po, c, optarg))
				return BS_EXIT_USAGE;
		} else if (c == 'j') {
			json = true;
		} else {
			bs_usage();
			return c == 'h' ? 0 : BS_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "bindshim audit: unexpected argument \"%s\"\n", argv[optind]);
		return BS_EXIT_USAGE;
	}
	bs_policyopt_finish(&po);
	if (bs_policyopt_load(&po, &layers))
		return BS_EXIT_USAGE;
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		if (read_table(tables[t].name, tables[t].proto, &ss) < 0) {
			fprintf(stderr, "bindshim audit: /proc/net/%s: %s\n", tables[t].name,
				strerror(errno));
			return BS_EXIT_USAGE;
		}
	find_owners(&ss);
	for (size_t i = 0; i < ss.n; i++) {
		describe(&ss.v[i]);
		judge(&layers, &ss.v[i]);
		exposed |= ss.v[i].exposed;
	}
	if (json)
		print_json(&ss);
	else
		print_text(&ss);
	if (!json)
		bs_kaudit();
	free(ss.v);
	bs_layers_free(&layers);
	return exposed ? 1 : 0;
}
