/*
 * Loading a version 1 policy file with libconfig into a plain struct bs_policy.
 *
 * Validation is strict and reports every problem in one pass, each as one
 * "FILE:LINE: message" line in the caller's buffer. libconfig's tree is destroyed
 * before returning; the policy holds copies only.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/cfgapi.h"
#include "policy/internal.h"
#include "policy/sys.h"

struct loader {
	const struct bs_cfg_api *cfg;
	const char *file;
	char *err;
	size_t errlen, used;
	int problems;
	struct bs_policy *p;
	char *text;			/* the file, read back for big literals */
	size_t textlen;
	unsigned *big;			/* lines with literals libconfig cannot hold */
	size_t nbig;
};

/* Appends "FILE:LINE: message\n" to the error buffer ("FILE: message" for line 0,
 * a problem with the file as a whole). */
__attribute__((format(printf, 3, 4)))
static void problem(struct loader *L, unsigned line, const char *fmt, ...)
{
	va_list ap;
	int n;

	L->problems++;
	if (!L->err || L->used + 1 >= L->errlen)
		return;
	n = line ? snprintf(L->err + L->used, L->errlen - L->used, "%s:%u: ", L->file, line) :
		   snprintf(L->err + L->used, L->errlen - L->used, "%s: ", L->file);
	if (n > 0 && L->used + (size_t)n < L->errlen) {
		L->used += (size_t)n;
		va_start(ap, fmt);
		n = vsnprintf(L->err + L->used, L->errlen - L->used, fmt, ap);
		va_end(ap);
		if (n > 0)
			L->used += (size_t)n;
	}
	if (L->used + 1 >= L->errlen) {
		L->used = L->errlen - 1;
		L->err[L->used - 1] = '\n';
		return;
	}
	L->err[L->used++] = '\n';
	L->err[L->used] = '\0';
}

static unsigned line_of(const config_setting_t *s)
{
	unsigned l = config_setting_source_line(s);

	return l ? l : 1;
}

/* Tells whether name is in the NULL-terminated list. */
static bool known(const char *name, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(name, *list))
			return true;
	return false;
}

/* Reports every member of group g whose name is not in keys. */
static void check_keys(struct loader *L, const config_setting_t *g, const char *where,
		       const char *const *keys)
{
	for (int i = 0; i < L->cfg->length(g); i++) {
		const config_setting_t *m = L->cfg->get_elem(g, (unsigned)i);

		if (!known(config_setting_name(m), keys))
			problem(L, line_of(m), "unknown setting \"%s%s\"", where,
				config_setting_name(m));
	}
}

/* Returns the string of s, or reports that key must be a string and returns NULL. */
static const char *want_string(struct loader *L, const config_setting_t *s, const char *key)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		problem(L, line_of(s), "\"%s\" must be a string", key);
		return NULL;
	}
	return L->cfg->get_string(s);
}

static int cmp_line(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return x < y ? -1 : x > y;
}

/* Finds the literal of integer setting s in the text: the k-th element of its list
 * on its line, or the value after its name. Returns false if not found. */
static bool find_literal(const struct loader *L, const config_setting_t *s, char *out,
			 size_t len)
{
	const config_setting_t *parent = config_setting_parent(s);
	unsigned line = config_setting_source_line(s);
	size_t k = 0;
	int pt = parent ? config_setting_type(parent) : CONFIG_TYPE_NONE;

	if (pt != CONFIG_TYPE_LIST && pt != CONFIG_TYPE_ARRAY)
		return bs_int_literal(L->text, L->textlen, line, config_setting_name(s), false, 0,
				      out, len);
	for (unsigned i = 0; i < (unsigned)L->cfg->length(parent); i++) {
		const config_setting_t *e = L->cfg->get_elem(parent, i);

		if (e == s)
			break;
		k += config_setting_source_line(e) == line;
	}
	return bs_int_literal(L->text, L->textlen, line, config_setting_name(parent), true, k,
			      out, len);
}

/* Tells whether s holds an integer, and stores it in *v and as text in shown. A
 * literal libconfig could not hold (see literal.c) is shown as written, with its
 * exact value, or LLONG_MAX beyond 64 bits; out of every range either way. */
static bool get_int(const struct loader *L, const config_setting_t *s, long long *v,
		    char *shown, size_t len)
{
	int t = config_setting_type(s);
	unsigned line = config_setting_source_line(s);
	char lit[64];
	long long exact;

	if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64)
		return false;
	*v = L->cfg->get_int64(s);
	snprintf(shown, len, "%lld", *v);
	if (!L->nbig || !bsearch(&line, L->big, L->nbig, sizeof(*L->big), cmp_line))
		return true;
	if (!find_literal(L, s, lit, sizeof(lit))) {
		snprintf(shown, len, "(a number too large)");
		*v = LLONG_MAX;
	} else if (!bs_literal_value(lit, &exact) || exact != *v) {
		snprintf(shown, len, "%s", lit);
		*v = bs_literal_value(lit, &exact) ? exact : LLONG_MAX;
	}
	return true;
}

/* Calls fn on each element of a list/array setting, or on s itself if scalar.
 * Reports empty and nested lists. Returns the number of elements visited. */
static size_t each_value(struct loader *L, const config_setting_t *s, const char *key,
			 void (*fn)(struct loader *, const config_setting_t *, void *), void *ctx)
{
	int t = config_setting_type(s), n;

	if (t != CONFIG_TYPE_LIST && t != CONFIG_TYPE_ARRAY) {
		if (t == CONFIG_TYPE_GROUP) {
			problem(L, line_of(s), "\"%s\" must be a value or a list, not a group", key);
			return 0;
		}
		fn(L, s, ctx);
		return 1;
	}
	n = L->cfg->length(s);
	if (n == 0)
		problem(L, line_of(s), "\"%s\" is an empty list, which would match nothing", key);
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = L->cfg->get_elem(s, (unsigned)i);
		int et = config_setting_type(e);

		if (et == CONFIG_TYPE_LIST || et == CONFIG_TYPE_ARRAY || et == CONFIG_TYPE_GROUP)
			problem(L, line_of(e), "\"%s\" may not contain a nested list or group", key);
		else
			fn(L, e, ctx);
	}
	return (size_t)n;
}

/* Element count of a list-valued setting, 1 for a scalar. */
static size_t count_values(const struct loader *L, const config_setting_t *s)
{
	int t = config_setting_type(s);

	return t == CONFIG_TYPE_LIST || t == CONFIG_TYPE_ARRAY ? (size_t)L->cfg->length(s) : 1;
}

static void add_address(struct loader *L, const config_setting_t *s, void *ctx)
{
	struct bs_rule *r = ctx;
	const char *v = want_string(L, s, "match.address");
	struct bs_addr_match m;
	int rc;

	if (!v)
		return;
	rc = bs_addr_match_parse(v, &m);
	if (rc == -ERANGE)
		problem(L, line_of(s), "bad prefix length in \"%s\" (0-%u for %s)", v,
			m.net.family == AF_INET ? 32 : 128,
			m.net.family == AF_INET ? "IPv4" : "IPv6");
	else if (rc == -ENOTUNIQ)
		problem(L, line_of(s), "\"%s\" has bits set after the prefix length", v);
	else if (rc)
		problem(L, line_of(s), "bad address \"%s\" (expected \"wildcard\", \"any\", "
			"an IP address or a CIDR)", v);
	else
		r->addrs[r->naddrs++] = m;
}

static void add_port(struct loader *L, const config_setting_t *s, void *ctx)
{
	struct bs_rule *r = ctx;
	struct bs_port_range pr;
	long long v;
	char shown[64];
	int rc;

	if (get_int(L, s, &v, shown, sizeof(shown))) {
		if (v < 0 || v > 65535) {
			problem(L, line_of(s), "port %s out of range (0-65535)", shown);
			return;
		}
		pr.lo = pr.hi = (uint16_t)v;
	} else if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		const char *str = L->cfg->get_string(s);

		rc = bs_port_range_parse(str, &pr);
		if (rc == -ERANGE) {
			problem(L, line_of(s), "bad port range \"%s\" (start after end)", str);
			return;
		}
		if (rc) {
			problem(L, line_of(s), "bad port \"%s\" (expected 0-65535 or \"LO-HI\")", str);
			return;
		}
	} else {
		problem(L, line_of(s), "\"match.port\" must be a port number or a \"LO-HI\" string");
		return;
	}
	r->ports[r->nports++] = pr;
}

/* Adds the bit named by s ("ipv4"...) from names/bits to *set. */
static void add_bit(struct loader *L, const config_setting_t *s, const char *key,
		    const char *const names[2], const unsigned bits[2], unsigned *set)
{
	const char *v = want_string(L, s, key);

	if (!v)
		return;
	for (int i = 0; i < 2; i++)
		if (!strcmp(v, names[i])) {
			*set |= bits[i];
			return;
		}
	problem(L, line_of(s), "bad %s \"%s\" (expected \"%s\" or \"%s\")", key + 6, v,
		names[0], names[1]);
}

static void add_family(struct loader *L, const config_setting_t *s, void *ctx)
{
	static const char *const names[2] = {"ipv4", "ipv6"};
	static const unsigned bits[2] = {BS_FAM_V4, BS_FAM_V6};

	add_bit(L, s, "match.family", names, bits, &((struct bs_rule *)ctx)->families);
}

static void add_proto(struct loader *L, const config_setting_t *s, void *ctx)
{
	static const char *const names[2] = {"tcp", "udp"};
	static const unsigned bits[2] = {BS_PROTO_TCP, BS_PROTO_UDP};

	add_bit(L, s, "match.proto", names, bits, &((struct bs_rule *)ctx)->protos);
}

/* Appends a copy of a non-empty string setting to list/n; key names it in errors. */
static void add_glob(struct loader *L, const config_setting_t *s, const char *key,
		     char **list, size_t *n)
{
	const char *v = want_string(L, s, key);

	if (!v)
		return;
	if (!*v) {
		problem(L, line_of(s), "\"%s\" may not be empty", key);
		return;
	}
	list[*n] = strdup(v);
	if (list[*n])
		(*n)++;
	else
		problem(L, line_of(s), "out of memory");
}

static void add_program(struct loader *L, const config_setting_t *s, void *ctx)
{
	struct bs_rule *r = ctx;

	add_glob(L, s, "match.program", r->programs, &r->nprograms);
}

static void add_exe(struct loader *L, const config_setting_t *s, void *ctx)
{
	struct bs_rule *r = ctx;

	add_glob(L, s, "match.exe", r->exes, &r->nexes);
}

static void add_uid(struct loader *L, const config_setting_t *s, void *ctx)
{
	struct bs_rule *r = ctx;
	long long v;
	char shown[64];

	if (!get_int(L, s, &v, shown, sizeof(shown))) {
		problem(L, line_of(s), "\"match.uid\" must be an integer");
		return;
	}
	if (v < 0 || v >= 4294967295LL) {
		problem(L, line_of(s), "uid %s out of range (0-4294967294)", shown);
		return;
	}
	r->uids[r->nuids++] = (uid_t)v;
}

static void add_user(struct loader *L, const config_setting_t *s, void *ctx)
{
	struct bs_rule *r = ctx;
	const char *v = want_string(L, s, "match.user");
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (!v)
		return;
	if (getpwnam_r(v, &pw, buf, sizeof(buf), &res) || !res) {
		problem(L, line_of(s), "unknown user \"%s\"", v);
		return;
	}
	r->uids[r->nuids++] = res->pw_uid;
}

/* Makes room in r for the values of match key s; returns false on ENOMEM. */
static bool reserve(const struct loader *L, struct bs_rule *r, const config_setting_t *s)
{
	const char *k = config_setting_name(s);
	size_t n = count_values(L, s) + 1;

	if (!strcmp(k, "address"))
		return (r->addrs = calloc(n, sizeof(*r->addrs))) != NULL;
	if (!strcmp(k, "port"))
		return (r->ports = calloc(n, sizeof(*r->ports))) != NULL;
	if (!strcmp(k, "program"))
		return (r->programs = calloc(n, sizeof(char *))) != NULL;
	if (!strcmp(k, "exe"))
		return (r->exes = calloc(n, sizeof(char *))) != NULL;
	if (!strcmp(k, "uid") || !strcmp(k, "user")) {
		/* uid and user share the list; both keys given means both must match,
		 * which a shared list cannot express, so the loader rejects that. */
		if (!r->uids)
			r->uids = calloc(n, sizeof(*r->uids));
		return r->uids != NULL;
	}
	return true;
}

static void load_match(struct loader *L, const config_setting_t *m, struct bs_rule *r)
{
	static const char *const keys[] = {"address", "port", "family", "proto", "program",
					   "exe", "uid", "user", NULL};
	static const struct {
		const char *key;
		void (*fn)(struct loader *, const config_setting_t *, void *);
	} adders[] = {
		{"address", add_address}, {"port", add_port}, {"family", add_family},
		{"proto", add_proto}, {"program", add_program}, {"exe", add_exe},
		{"uid", add_uid}, {"user", add_user},
	};

	if (config_setting_type(m) != CONFIG_TYPE_GROUP) {
		problem(L, line_of(m), "\"match\" must be a group: match = { ... };");
		return;
	}
	check_keys(L, m, "match.", keys);
	if (L->cfg->get_member(m, "uid") && L->cfg->get_member(m, "user"))
		problem(L, line_of(m), "give \"uid\" or \"user\" in one match, not both");
	for (size_t i = 0; i < sizeof(adders) / sizeof(adders[0]); i++) {
		const config_setting_t *s = L->cfg->get_member(m, adders[i].key);
		char key[16];

		if (!s)
			continue;
		if (!reserve(L, r, s)) {
			problem(L, line_of(s), "out of memory");
			continue;
		}
		snprintf(key, sizeof(key), "match.%s", adders[i].key);
		each_value(L, s, key, adders[i].fn, r);
	}
}

static void load_action(struct loader *L, const config_setting_t *g, struct bs_rule *r)
{
	static const char *const names[] = {"allow", "deny", "rewrite", "log"};
	static const enum bs_action acts[] = {BS_ALLOW, BS_DENY, BS_REWRITE, BS_LOG};
	const config_setting_t *s = L->cfg->get_member(g, "action");
	const char *v;

	r->action = BS_ALLOW;
	if (!s) {
		problem(L, line_of(g), "rule has no \"action\"");
		return;
	}
	v = want_string(L, s, "action");
	if (!v)
		return;
	for (size_t i = 0; i < 4; i++)
		if (!strcmp(v, names[i])) {
			r->action = acts[i];
			return;
		}
	problem(L, line_of(s), "bad action \"%s\" (expected \"allow\", \"deny\", "
		"\"rewrite\" or \"log\")", v);
	r->action = (enum bs_action)-1;
}

static void load_errno(struct loader *L, const config_setting_t *g, struct bs_rule *r)
{
	const config_setting_t *s = L->cfg->get_member(g, "errno");
	const char *v;

	r->err = EACCES;
	if (!s)
		return;
	if (r->action != BS_DENY && r->action != (enum bs_action)-1)
		problem(L, line_of(s), "\"errno\" is only valid with action \"deny\"");
	v = want_string(L, s, "errno");
	if (!v)
		return;
	r->err = bs_errno_from_name(v);
	if (!r->err) {
		problem(L, line_of(s), "unknown errno name \"%s\"", v);
		r->err = EACCES;
	}
}

static void load_rewrite(struct loader *L, const config_setting_t *g, struct bs_rule *r)
{
	const config_setting_t *to = L->cfg->get_member(g, "to");
	const config_setting_t *port = L->cfg->get_member(g, "to_port");
	bool rewrite = r->action == BS_REWRITE, unknown = r->action == (enum bs_action)-1;
	const char *v;
	long long n;
	char shown[64];

	if (rewrite && !to)
		problem(L, line_of(g), "action \"rewrite\" needs \"to\"");
	if (to && !rewrite && !unknown)
		problem(L, line_of(to), "\"to\" is only valid with action \"rewrite\"");
	if (port && !rewrite && !unknown)
		problem(L, line_of(port), "\"to_port\" is only valid with action \"rewrite\"");
	if (to && (v = want_string(L, to, "to")) && bs_target_parse(v, &r->to))
		problem(L, line_of(to), "bad rewrite target \"%s\" (expected \"loopback\", "
			"an IP address or \"interface:NAME\")", v);
	if (!port)
		return;
	if (!get_int(L, port, &n, shown, sizeof(shown)))
		problem(L, line_of(port), "\"to_port\" must be an integer");
	else if (n < 0 || n > 65535)
		problem(L, line_of(port), "to_port %s out of range (0-65535)", shown);
	else
		r->to_port = (int)n;
}

static void load_rule(struct loader *L, const config_setting_t *g, size_t idx)
{
	static const char *const keys[] = {"name", "match", "action", "errno", "to",
					   "to_port", NULL};
	struct bs_rule *r = &L->p->rules[idx];
	const config_setting_t *s;
	char dflt[32];
	const char *name = NULL;

	r->line = line_of(g);
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		problem(L, line_of(g), "each rule must be a group: { match = ...; action = ...; }");
		return;
	}
	check_keys(L, g, "", keys);
	s = L->cfg->get_member(g, "name");
	if (s && (name = want_string(L, s, "name")) && !*name) {
		problem(L, line_of(s), "\"name\" may not be empty");
		name = NULL;
	}
	snprintf(dflt, sizeof(dflt), "rule %zu", idx + 1);
	r->name = strdup(name ? name : dflt);
	if (!r->name) {
		problem(L, r->line, "out of memory");
		return;
	}
	load_action(L, g, r);
	load_errno(L, g, r);
	load_rewrite(L, g, r);
	s = L->cfg->get_member(g, "match");
	if (s)
		load_match(L, s, r);
}

static void load_rules(struct loader *L, const config_setting_t *rules)
{
	if (config_setting_type(rules) != CONFIG_TYPE_LIST) {
		problem(L, line_of(rules), "\"rules\" must be a list of groups: rules = ( { ... }, ... );");
		return;
	}
	for (int i = 0; i < L->cfg->length(rules); i++)
		load_rule(L, L->cfg->get_elem(rules, (unsigned)i), (size_t)i);
}

static void load_log(struct loader *L, const config_setting_t *g)
{
	static const char *const keys[] = {"to", "format", "allowed", NULL};
	const config_setting_t *s;
	const char *v;

	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		problem(L, line_of(g), "\"log\" must be a group: log = { ... };");
		return;
	}
	check_keys(L, g, "log.", keys);
	if ((s = L->cfg->get_member(g, "to")) && (v = want_string(L, s, "log.to"))) {
		if (!strcmp(v, "stderr"))
			L->p->log.to = BS_LOG_STDERR;
		else if (!strcmp(v, "syslog"))
			L->p->log.to = BS_LOG_SYSLOG;
		else if (v[0] == '/' && (L->p->log.path = strdup(v)))
			L->p->log.to = BS_LOG_FILE;
		else
			problem(L, line_of(s), "bad log.to \"%s\" (expected \"stderr\", \"syslog\" "
				"or an absolute file path)", v);
	}
	if ((s = L->cfg->get_member(g, "format")) && (v = want_string(L, s, "log.format"))) {
		if (!strcmp(v, "json") || !strcmp(v, "text"))
			L->p->log.json = !strcmp(v, "json");
		else
			problem(L, line_of(s), "bad log.format \"%s\" (expected \"text\" or \"json\")", v);
	}
	if ((s = L->cfg->get_member(g, "allowed"))) {
		if (config_setting_type(s) != CONFIG_TYPE_BOOL)
			problem(L, line_of(s), "\"log.allowed\" must be true or false");
		else
			L->p->log.allowed = L->cfg->get_bool(s);
	}
}

static void load_root(struct loader *L, const config_setting_t *root)
{
	static const char *const keys[] = {"version", "default", "log", "rules", "locked", NULL};
	const config_setting_t *s;
	const char *v;
	long long n;
	char shown[64];

	check_keys(L, root, "", keys);
	s = L->cfg->get_member(root, "version");
	if (!s)
		problem(L, 1, "missing required setting \"version\" (version = %d;)", BS_POLICY_VERSION);
	else if (!get_int(L, s, &n, shown, sizeof(shown)))
		problem(L, line_of(s), "\"version\" must be an integer");
	else if (n != BS_POLICY_VERSION)
		problem(L, line_of(s), "unsupported version %s (this bindshim reads version %d)",
			shown, BS_POLICY_VERSION);
	if ((s = L->cfg->get_member(root, "default")) && (v = want_string(L, s, "default"))) {
		if (!strcmp(v, "allow") || !strcmp(v, "deny"))
			L->p->default_action = !strcmp(v, "deny") ? BS_DENY : BS_ALLOW;
		else
			problem(L, line_of(s), "bad default \"%s\" (expected \"allow\" or \"deny\")", v);
	}
	if ((s = L->cfg->get_member(root, "locked"))) {
		if (config_setting_type(s) != CONFIG_TYPE_BOOL)
			problem(L, line_of(s), "\"locked\" must be true or false");
		else
			L->p->locked = L->cfg->get_bool(s);
	}
	if ((s = L->cfg->get_member(root, "log")))
		load_log(L, s);
	if ((s = L->cfg->get_member(root, "rules")))
		load_rules(L, s);
}

FILE *bs_open_regular(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC), flags, err;
	FILE *f = NULL;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0)
		err = errno;
	else if (!S_ISREG(st.st_mode))
		err = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
	else if ((flags = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0 ||
		 !(f = fdopen(fd, "r")))
		err = errno;
	else
		return f;
	bs_sys_close(fd);
	errno = err;
	return NULL;
}

/* Opens the policy file (bs_open_regular); NULL with a problem reported. */
static FILE *open_policy(struct loader *L)
{
	FILE *f = bs_open_regular(L->file);

	if (!f && errno == EINVAL)
		problem(L, 0, "not a regular file");
	else if (!f)
		problem(L, 0, "cannot %s: %s", errno == EISDIR ? "read" : "open", strerror(errno));
	return f;
}

/* Reads the file back (libconfig has read it) and notes the lines with literals
 * libconfig could not hold; 0 or -ENOMEM. */
static int read_text(struct loader *L, FILE *f)
{
	size_t cap = 0;

	rewind(f);
	for (;;) {
		if (L->textlen == cap) {
			char *more = realloc(L->text, cap = cap ? 2 * cap : 8192);

			if (!more)
				return -ENOMEM;
			L->text = more;
		}
		size_t n = fread(L->text + L->textlen, 1, cap - L->textlen, f);

		if (!n)
			break;
		L->textlen += n;
	}
	L->big = bs_big_literal_lines(L->text, L->textlen, &L->nbig);
	return 0;
}

/* Line number of a "FILE:LINE: message" problem line. */
static unsigned long problem_line(const char *line, size_t flen)
{
	return strtoul(line + flen + 1, NULL, 10);
}

/* Cuts copy into its problem lines, in place: a line ends at a newline followed by
 * the end or by "FILE:" (the file name, or a quoted value, may hold a newline of its
 * own). Returns the number of lines. */
static size_t split_problems(char *copy, const char *file, size_t flen, char **lines)
{
	size_t n = 0;

	for (char *s = copy; *s;) {
		char *nl = s;

		lines[n++] = s;
		while ((nl = strchr(nl, '\n')) && nl[1] &&
		       (strncmp(nl + 1, file, flen) || nl[1 + flen] != ':'))
			nl++;
		if (!nl)
			break;
		*nl = '\0';
		s = nl + 1;
	}
	return n;
}

/* Orders the problem lines in err by line number, keeping the order within a line. */
static void sort_problems(char *err, const char *file)
{
	size_t n = 0, len = strlen(err), flen = strlen(file);
	char **lines, *copy = strdup(err), *out = err;

	for (size_t i = 0; i < len; i++)
		n += err[i] == '\n';
	lines = calloc(n + 1, sizeof(*lines));
	if (!copy || !lines)
		goto out;
	n = split_problems(copy, file, flen, lines);
	/* Insertion sort: stable, and problem lists are short. */
	for (size_t i = 1; i < n; i++) {
		char *cur = lines[i];
		size_t j = i;

		for (; j > 0 && problem_line(lines[j - 1], flen) > problem_line(cur, flen); j--)
			lines[j] = lines[j - 1];
		lines[j] = cur;
	}
	for (size_t i = 0; i < n; i++)
		out += sprintf(out, "%s\n", lines[i]);
out:
	free(copy);
	free(lines);
}

/* Number of rules in the tree, 0 if rules is absent or not a list. */
static size_t rule_count(const struct loader *L, config_t *cfg)
{
	const config_setting_t *rules = L->cfg->lookup(cfg, "rules");

	if (!rules || config_setting_type(rules) != CONFIG_TYPE_LIST)
		return 0;
	return (size_t)L->cfg->length(rules);
}

int bs_policy_load(const char *file, struct bs_policy **out, char *err, size_t errlen)
{
	struct loader L = {.file = file, .err = err, .errlen = errlen};
	const char *why = NULL;
	config_t cfg;
	FILE *f;
	int rc = -EINVAL;

	if (err && errlen)
		err[0] = '\0';
	L.cfg = bs_cfg_api(&why);
	if (!L.cfg) {
		problem(&L, 0, "%s", why);
		return -ENOSYS;
	}
	f = open_policy(&L);
	if (!f)
		return -ENOENT;
	L.cfg->init(&cfg);
	if (L.cfg->read(&cfg, f) != CONFIG_TRUE) {
		const char *text = config_error_text(&cfg);

		/* libconfig arrays [...] hold one type; lists (...) may mix them. */
		problem(&L, (unsigned)config_error_line(&cfg), "%s%s", text,
			strstr(text, "mismatched element type") ?
			" (to mix numbers and strings use a list: ( 22, \"8000-8999\" ))" : "");
		goto out;
	}
	L.p = bs_policy_alloc(rule_count(&L, &cfg));
	if (!L.p || !(L.p->file = strdup(file)) || read_text(&L, f)) {
		problem(&L, 0, "out of memory");
		goto out;
	}
	load_root(&L, config_root_setting(&cfg));
	if (!L.problems && bs_policy_finish(L.p))
		problem(&L, 0, "out of memory");
	if (L.problems && err)
		sort_problems(err, file);
	if (!L.problems) {
		*out = L.p;
		L.p = NULL;
		rc = 0;
	}
out:
	free(L.text);
	free(L.big);
	bs_policy_free(L.p);
	L.cfg->destroy(&cfg);
	fclose(f);
	return rc;
}
