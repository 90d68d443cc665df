/* Real servers under `bindshim run --loopback` end up on loopback only. Ports 18xxx. */
#include <stdio.h>
#include <unistd.h>

#include "tests/integration/support.h"

/* Starts cmd under `bindshim run --loopback`, logging to a temp file. */
static pid_t start(const char *log, const char *cmd)
{
	return bs_spawn(log, "exec %s run --loopback -- %s", BINDSHIM, cmd);
}

/* Reads the log of a spawned server. */
static const char *log_of(const char *log)
{
	static char body[BS_OUT_MAX];

	bs_read_file(log, body, sizeof(body));
	return body;
}

Test(servers, python_http_server_default)
{
	char log[256], cmd[256];
	pid_t pid;

	snprintf(log, sizeof(log), "%s/log", bs_tmpdir());
	snprintf(cmd, sizeof(cmd), "python3 -u -m http.server 18001 --directory %s", bs_tmpdir());
	pid = start(log, cmd);
	assert_tcp_loopback_only(18001, log);
	bs_stop(pid);
	/* getaddrinfo() was rewritten too, so python prints where it really serves. */
	cr_expect(strstr(log_of(log), "Serving HTTP on 127.0.0.1 port 18001") ||
		  strstr(log_of(log), "Serving HTTP on ::1 port 18001"), "log:\n%s", log_of(log));
	cr_expect(strstr(log_of(log), "bindshim["), "no bindshim record:\n%s", log_of(log));
}

Test(servers, python_http_server_bind_ipv6_wildcard)
{
	char log[256], cmd[256];
	pid_t pid;

	snprintf(log, sizeof(log), "%s/log", bs_tmpdir());
	snprintf(cmd, sizeof(cmd), "python3 -u -m http.server --bind :: 18002 --directory %s",
		 bs_tmpdir());
	pid = start(log, cmd);
	/* http.server's [::] is dual-stack: it stays reachable as 127.0.0.1. */
	cr_expect_str_eq(assert_tcp_loopback_only(18002, log), "::ffff:127.0.0.1");
	bs_stop(pid);
}

Test(servers, node_default_listen)
{
	char log[256];
	pid_t pid;

	snprintf(log, sizeof(log), "%s/log", bs_tmpdir());
	pid = start(log, "node -e \"require('http').createServer((q, r) => r.end('ok'))"
			 ".listen(18003, () => console.log('listening'))\"");
	assert_tcp_loopback_only(18003, log);
	bs_stop(pid);
	cr_expect(strstr(log_of(log), "rewrite tcp [::]:18003 -> [::ffff:127.0.0.1]:18003") ||
		  strstr(log_of(log), "rewrite tcp 0.0.0.0:18003 -> 127.0.0.1:18003"),
		  "log:\n%s", log_of(log));
}

Test(servers, socat_tcp_listen)
{
	char log[256];
	pid_t pid;

	snprintf(log, sizeof(log), "%s/log", bs_tmpdir());
	pid = start(log, "socat TCP-LISTEN:18004,fork,reuseaddr SYSTEM:'echo hi'");
	cr_expect_str_eq(assert_tcp_loopback_only(18004, log), "127.0.0.1");
	bs_stop(pid);
}

Test(servers, redis_bind_all)
{
	char log[256], cmd[512];
	const char *dir = bs_tmpdir();
	pid_t pid;

	snprintf(log, sizeof(log), "%s/log", dir);
	snprintf(cmd, sizeof(cmd), "redis-server --port 18005 --bind 0.0.0.0 --save '' "
		 "--appendonly no --protected-mode no --dir %s", dir);
	pid = start(log, cmd);
	cr_expect_str_eq(assert_tcp_loopback_only(18005, log), "127.0.0.1");
	bs_stop(pid);
	cr_expect(strstr(log_of(log), "rewrite tcp 0.0.0.0:18005 -> 127.0.0.1:18005"),
		  "log:\n%s", log_of(log));
}

Test(servers, nginx_ipv4_and_ipv6_wildcards)
{
	const char *dir = bs_tmpdir();
	char conf[4096], path[256], log[256], cmd[512], addrs[256];
	pid_t pid;

	/* user root: nginx run as root gives its temporary directories to nobody
	 * otherwise, whom a user namespace of an unprivileged user does not map. */
	snprintf(conf, sizeof(conf),
		 "user root; daemon off; master_process off;\n"
		 "pid %s/nginx.pid; error_log %s/error.log;\n"
		 "events {}\n"
		 "http { access_log off; client_body_temp_path %s; proxy_temp_path %s;\n"
		 "  fastcgi_temp_path %s; uwsgi_temp_path %s; scgi_temp_path %s;\n"
		 "  server { listen 0.0.0.0:18006; listen [::]:18006 ipv6only=on;\n"
		 "           location / { return 200 'ok'; } } }\n",
		 dir, dir, dir, dir, dir, dir, dir);
	snprintf(path, sizeof(path), "%s/nginx.conf", dir);
	bs_write_file(path, conf);
	snprintf(log, sizeof(log), "%s/log", dir);
	snprintf(cmd, sizeof(cmd), "nginx -p %s -c %s", dir, path);
	pid = start(log, cmd);
	cr_assert(bs_wait_port("tcp", 18006, 10000, addrs, sizeof(addrs)), "log:\n%s", log_of(log));
	usleep(200000);		/* both listeners */
	bs_port_addrs("tcp", 18006, addrs, sizeof(addrs));
	cr_expect(!strcmp(addrs, "127.0.0.1,::1"), "nginx listens on %s", addrs);
	cr_expect_eq(bs_tcp_connect("127.0.0.1", 18006), 0);
	cr_expect_eq(bs_tcp_connect("::1", 18006), 0);
	cr_expect_eq(bs_tcp_connect(LAB4, 18006), ECONNREFUSED);
	cr_expect_eq(bs_tcp_connect(LAB6, 18006), ECONNREFUSED);
	bs_stop(pid);
}

Test(servers, udp_server_on_wildcard)
{
	char log[256], addr[128];
	pid_t pid;

	snprintf(log, sizeof(log), "%s/log", bs_tmpdir());
	pid = start(log, "python3 -c \"import socket\n"
			 "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
			 "s.bind(('0.0.0.0', 18007))\n"
			 "for _ in range(20):\n"
			 "    d, a = s.recvfrom(64); s.sendto(d, a)\"");
	cr_assert(bs_wait_port("udp", 18007, 10000, addr, sizeof(addr)), "log:\n%s", log_of(log));
	cr_expect_str_eq(addr, "127.0.0.1");
	cr_expect_eq(bs_udp_echo("127.0.0.1", 18007), 0);
	cr_expect_eq(bs_udp_echo(LAB4, 18007), ECONNREFUSED);
	bs_stop(pid);
}

Test(servers, make_demo_proves_loopback_only)
{
	struct bs_proc p;

	/* The demo makes its own pair of network namespaces (this test runs as root). */
	bs_sh(&p, 60, "DEMO_SECONDS=0 sh %s", bs_src("examples/demo.sh"));
	cr_expect_eq(p.status, 0, "%s%s", p.out, p.err);
	cr_expect(strstr(p.out, "127.0.0.1:8000 "), "listens as ss shows it:\n%s", p.out);
	cr_expect(strstr(p.out, "answered on loopback, by the wrapped server"), "%s", p.out);
	cr_expect(strstr(p.out, "refused: Connection refused\n  -> not reachable from the network"),
		  "%s", p.out);
	/* Something else on 8000 (no namespaces of its own: told why): the demo moves on
	 * and proves its own server answers. */
	bs_sh(&p, 60, "unshare --net sh -c 'ip link set lo up; python3 -c \""
	      "import socket, time; s = socket.socket(); s.bind((\\\"0.0.0.0\\\", 8000)); s.listen(); "
	      "print(flush=True); time.sleep(30)\" | (read x; BS_DEMO_NS=\"skipped: a test\" "
	      "DEMO_SECONDS=0 sh %s; pkill -P $$ python3)'", bs_src("examples/demo.sh"));
	cr_expect_eq(p.status, 0, "%s%s", p.out, p.err);
	cr_expect(strstr(p.out, "Port 8000 is taken (0.0.0.0:8000 ); trying 8001."), "%s", p.out);
	cr_expect(strstr(p.out, "127.0.0.1:8001 "), "%s", p.out);
	cr_expect(strstr(p.out, "(the token is ours)"), "%s", p.out);
	cr_expect(strstr(p.out, "From another machine: skipped: a test."), "%s", p.out);
}
