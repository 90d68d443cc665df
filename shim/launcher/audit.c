/*
 * bindshim audit: the listening TCP sockets and the bound, unconnected UDP and
 * UDP-Lite sockets of this network namespace (/proc/net), with the device each is
 * bound to, the pid, program and user where visible, what covers that process (the
 * shim, a supervisor), which sockets are exposed (on a wildcard or a non-loopback
 * address), and what the current policy would do with each. Exit 1 when something
 * is exposed, so cron and monitoring can act.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim/common/escape.h"
#include "shim/common/json.h"
#include "shim/launcher/audit.h"
#include "shim/launcher/policyopt.h"
#include "shim/launcher/system.h"

/* A /proc/net table, and the protocol of its sockets as the policy and the kernel
 * see it. */
struct table {
	const char *name, *proto_name;
	int ipproto;
	unsigned proto;
};

static const struct table tables[] = {
	{"tcp", "tcp", IPPROTO_TCP, BS_PROTO_TCP},
	{"tcp6", "tcp", IPPROTO_TCP, BS_PROTO_TCP},
	{"udp", "udp", IPPROTO_UDP, BS_PROTO_UDP},
	{"udp6", "udp", IPPROTO_UDP, BS_PROTO_UDP},
	/* UDP-Lite is a datagram socket: the shim and a policy treat it as udp */
	{"udplite", "udplite", IPPROTO_UDPLITE, BS_PROTO_UDP},
	{"udplite6", "udplite", IPPROTO_UDPLITE, BS_PROTO_UDP},
};

struct socks {
	struct bs_audit_sock *v;
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

/* Appends s to out; returns 0 or -1. */
static int push(struct socks *out, const struct bs_audit_sock *s)
{
	if (out->n == out->cap) {
		size_t cap = out->cap ? out->cap * 2 : 64;
		struct bs_audit_sock *v = realloc(out->v, cap * sizeof(*v));

		if (!v)
			return -1;
		out->v = v;
		out->cap = cap;
	}
	out->v[out->n++] = *s;
	return 0;
}

/* Reads one /proc/net table, keeping listening TCP / unconnected bound UDP sockets. */
static int read_table(const struct table *t, struct socks *out)
{
	char path[64], line[512];
	FILE *f;
	int rc = 0;

	snprintf(path, sizeof(path), "/proc/net/%s", t->name);
	f = fopen(path, "re");
	if (!f)		/* no IPv6, or no UDP-Lite, in this kernel */
		return errno == ENOENT ? 0 : -1;
	while (!rc && fgets(line, sizeof(line), f)) {
		char local[40], remote[40];
		unsigned lport, rport, state;
		unsigned long uid, inode;
		struct bs_audit_sock s = {.proto = t->proto, .proto_name = t->proto_name,
					  .ipproto = t->ipproto};

		if (sscanf(line, " %*d: %39[0-9A-F]:%x %39[0-9A-F]:%x %x %*s %*s %*s %lu %*d %lu",
			   local, &lport, remote, &rport, &state, &uid, &inode) != 7)
			continue;
		/* TCP: LISTEN (0x0A). UDP: bound (0x07) and not connected to a peer. */
		if (t->ipproto == IPPROTO_TCP ? state != 0x0A : (state != 0x07 || rport != 0))
			continue;
		if (decode(local, lport, &s.local) < 0)
			continue;
		s.uid = (uid_t)uid;
		s.inode = inode;
		rc = push(out, &s);
	}
	fclose(f);
	return rc;
}

/* Finds which process holds each socket, by its inode, through /proc/PID/fd: the
 * first found (the lowest pid: usually the one that bound it, before it forked). */
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
static void describe(struct bs_audit_sock *s)
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
static void judge(const struct bs_layers *l, struct bs_audit_sock *s)
{
	struct bs_query q = {.proto = s->proto, .uid = s->uid,
			     .program = s->program[0] ? s->program : NULL,
			     .exe = s->exe[0] ? s->exe : NULL};

	bs_query_set_sockaddr(&q, &s->local);
	/* A socket bound to lo (interface 1 in every namespace: kernel mode holds
	 * listeners there) takes nothing from another host either. */
	s->exposed = !bs_addr_is_loopback(&q.addr) && s->ifindex != 1;
	bs_resolve_bind(l->system, l->user, &q, &s->local, &s->o);
}

/* What the policy would do: "allow" (an allow or log rule), "rewrite" or "deny". */
static const char *action_of(const struct bs_audit_sock *s)
{
	if (s->o.err)
		return "deny";
	return s->o.d.action == BS_REWRITE ? "rewrite" : "allow";
}

/* Formats the local endpoint of s with the device it is bound to, if any:
 * "[fe80::7%bs0]:80", "0.0.0.0%bs0:80". Returns buf. */
static char *local_text(const struct bs_audit_sock *s, char *buf, size_t len)
{
	const struct sockaddr_in *v4 = (const struct sockaddr_in *)&s->local;
	const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)&s->local;
	char ip[INET6_ADDRSTRLEN] = "?", dev[IF_NAMESIZE + 16];

	if (!s->ifindex)
		return bs_endpoint_format(&s->local, buf, len);
	if (!if_indextoname(s->ifindex, dev))	/* gone since */
		snprintf(dev, sizeof(dev), "%u", s->ifindex);
	if (s->local.ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &v6->sin6_addr, ip, sizeof(ip));
		snprintf(buf, len, "[%s%%%s]:%u", ip, dev, ntohs(v6->sin6_port));
	} else {
		inet_ntop(AF_INET, &v4->sin_addr, ip, sizeof(ip));
		snprintf(buf, len, "%s%%%s:%u", ip, dev, ntohs(v4->sin_port));
	}
	return buf;
}

/* The columns of the text table. */
enum { C_PROTO, C_LOCAL, C_EXPOSED, C_PID, C_PROGRAM, C_USER, C_COVERAGE, C_POLICY, C_COUNT };

/* The longest cell: the policy column, its file name escaped. */
#define POLICY_MAX 1280
#define CELL_MAX (BS_ESCAPE_PER_BYTE * POLICY_MAX + 1)

struct row {
	char cell[C_COUNT][CELL_MAX];
};

static const char *const headers[C_COUNT] = {
	"PROTO", "LOCAL", "EXPOSED", "PID", "PROGRAM", "USER", "COVERAGE", "POLICY",
};

/* Writes what the policy would do with s, and why, as explain says it:
 * "rewrite -> 127.0.0.1:8000 (rule "not-loopback" builtin)". Returns buf. */
static char *policy_text(const struct bs_audit_sock *s, char *buf, size_t len)
{
	char to[BS_ENDPOINT_MAX], src[POLICY_MAX - 256];
	size_t n;

	if (s->o.err)
		snprintf(buf, len, "deny %s", bs_errno_name(s->o.err));
	else if (s->o.d.action == BS_REWRITE)
		snprintf(buf, len, "rewrite -> %s", bs_endpoint_format(&s->o.to, to, sizeof(to)));
	else
		snprintf(buf, len, "allow");
	n = strlen(buf);
	snprintf(buf + n, len - n, " (%s)", bs_decision_source(s->o.policy, &s->o.d, src, sizeof(src)));
	return buf;
}

/* Fills the text cells for s, every name escaped (a program chooses its own). */
static void fill_row(const struct bs_audit_sock *s, struct row *r)
{
	char ep[BS_ENDPOINT_MAX + IF_NAMESIZE + 16], v[POLICY_MAX];

	snprintf(r->cell[C_PROTO], CELL_MAX, "%s", s->proto_name);
	bs_text_escape(r->cell[C_LOCAL], CELL_MAX, local_text(s, ep, sizeof(ep)));
	snprintf(r->cell[C_EXPOSED], CELL_MAX, "%s", s->exposed ? "yes" : "no");
	if (s->pid)
		snprintf(r->cell[C_PID], CELL_MAX, "%d", (int)s->pid);
	else
		snprintf(r->cell[C_PID], CELL_MAX, "-");
	bs_text_escape(r->cell[C_PROGRAM], CELL_MAX, s->program[0] ? s->program : "-");
	bs_text_escape(r->cell[C_USER], CELL_MAX, s->user[0] ? s->user : "-");
	bs_cover_text(s->cover, r->cell[C_COVERAGE], CELL_MAX);
	bs_text_escape(r->cell[C_POLICY], CELL_MAX, policy_text(s, v, sizeof(v)));
}

/* Columns a cell takes on a terminal: one per character (cells are escaped, valid
 * UTF-8). */
static size_t columns(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* Prints one line of cells, each column as wide as widths says, the last unpadded. */
static void print_line(const char *const cells[C_COUNT], const size_t widths[C_COUNT])
{
	for (int c = 0; c < C_COUNT; c++) {
		fputs(cells[c], stdout);
		if (c == C_COUNT - 1)
			break;
		for (size_t pad = columns(cells[c]); pad <= widths[c]; pad++)
			putchar(' ');
	}
	putchar('\n');
}

/* Prints the table, its columns as wide as their widest cell. */
static void print_text(const struct socks *ss)
{
	static struct row r;
	size_t widths[C_COUNT];
	const char *cells[C_COUNT];

	for (int c = 0; c < C_COUNT; c++)
		widths[c] = columns(headers[c]);
	for (size_t i = 0; i < ss->n; i++) {
		fill_row(&ss->v[i], &r);
		for (int c = 0; c < C_COUNT; c++)
			if (columns(r.cell[c]) > widths[c])
				widths[c] = columns(r.cell[c]);
	}
	print_line(headers, widths);
	for (size_t i = 0; i < ss->n; i++) {
		fill_row(&ss->v[i], &r);
		for (int c = 0; c < C_COUNT; c++)
			cells[c] = r.cell[c];
		print_line(cells, widths);
	}
}

/* Prints ,"key":"value" (or "key":"value" first) with value escaped. */
static void json_field(const char *key, const char *value, bool first)
{
	char buf[2 * BS_JSON_VALUE_MAX + 8];

	bs_json_string(buf, sizeof(buf), value);
	printf("%s\"%s\":%s", first ? "" : ",", key, buf);
}

/* Prints what the policy would do with s: action, to, errno, rule, source. */
static void json_outcome(const struct bs_audit_sock *s)
{
	char to[BS_ENDPOINT_MAX], src[PATH_MAX + 16];
	const struct bs_rule *rule = s->o.d.rule;

	json_field("action", action_of(s), false);
	if (!s->o.err && s->o.d.action == BS_REWRITE)
		json_field("to", bs_endpoint_format(&s->o.to, to, sizeof(to)), false);
	if (s->o.err)
		json_field("errno", bs_errno_name(s->o.err), false);
	/* The same rule and source as the text and the log records. */
	if (s->o.policy->builtin) {
		if (rule)
			json_field("rule", rule->name, false);
		json_field("source", "builtin", false);
	} else if (!rule) {
		json_field("source", "default", false);
	} else {
		json_field("rule", rule->name, false);
		snprintf(src, sizeof(src), "%s:%u", s->o.policy->file, rule->line);
		json_field("source", src, false);
	}
}

static void print_json(const struct socks *ss)
{
	char ep[BS_ENDPOINT_MAX + IF_NAMESIZE + 16], dev[IF_NAMESIZE], cover[128];

	printf("[");
	for (size_t i = 0; i < ss->n; i++) {
		const struct bs_audit_sock *s = &ss->v[i];

		printf("%s\n  {", i ? "," : "");
		json_field("proto", s->proto_name, true);
		json_field("local", local_text(s, ep, sizeof(ep)), false);
		if (s->ifindex && if_indextoname(s->ifindex, dev))
			json_field("interface", dev, false);
		printf(",\"exposed\":%s,\"uid\":%u", s->exposed ? "true" : "false", (unsigned)s->uid);
		if (s->user[0])
			json_field("user", s->user, false);
		if (s->pid) {
			printf(",\"pid\":%d", (int)s->pid);
			json_field("program", s->program, false);
		}
		printf(",\"coverage\":%s", bs_cover_json(s->cover, cover, sizeof(cover)));
		json_outcome(s);
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
		} else if (c == 'h') {
			bs_help("audit");
			return 0;
		} else {
			return bs_try_help("audit");
		}
	}
	if (optind != argc)
		return bs_usage_error("audit", "unexpected argument \"%s\"", argv[optind]);
	bs_policyopt_finish(&po);
	if (bs_policyopt_load(&po, &layers))
		return BS_EXIT_USAGE;
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		if (read_table(&tables[t], &ss) < 0) {
			fprintf(stderr, "bindshim audit: /proc/net/%s: %s\n", tables[t].name,
				strerror(errno));
			free(ss.v);
			bs_layers_free(&layers);
			return BS_EXIT_USAGE;
		}
	bs_audit_scopes(ss.v, ss.n);
	find_owners(&ss);
	for (size_t i = 0; i < ss.n; i++) {
		describe(&ss.v[i]);
		ss.v[i].cover = bs_audit_coverage(&ss.v[i]);
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
