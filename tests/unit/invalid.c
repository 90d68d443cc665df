/* Every invalid fixture gives exactly the messages in its .expect file, all of them
 * in one pass, each as FILE:LINE: message. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

#define FIXTURES "tests/fixtures/invalid"

/* Builds the expected error text for fixture path from its .expect file. */
static void expected(const char *path, const char *expect_path, char *out, size_t len)
{
	char line[1024];
	size_t used = 0;
	FILE *f = fopen(expect_path, "r");

	out[0] = '\0';
	cr_assert(f, "missing %s", expect_path);
	while (fgets(line, sizeof(line), f) && used < len)
		used += (size_t)snprintf(out + used, len - used, "%s:%s", path, line);
	fclose(f);
}

Test(invalid, every_fixture_reports_its_problems)
{
	char dir[1024], path[4096], expect_path[4096], want[16384], got[16384];
	const char *src = getenv("BS_SRC");
	struct dirent *e;
	int count = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/%s", src ? src : ".", FIXTURES);
	d = opendir(dir);
	cr_assert(d, "cannot open %s", dir);
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		struct bs_policy *p = NULL;
		int rc;

		if (n < 5 || strcmp(e->d_name + n - 4, ".cfg"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		snprintf(expect_path, sizeof(expect_path), "%s/%.*s.expect", dir, (int)(n - 4), e->d_name);
		expected(path, expect_path, want, sizeof(want));
		rc = bs_policy_load(path, &p, got, sizeof(got));
		cr_expect_neq(rc, 0, "%s loaded", e->d_name);
		cr_expect_null(p, "%s gave a policy", e->d_name);
		cr_expect_str_eq(got, want, "%s", e->d_name);
		bs_policy_free(p);
		count++;
	}
	closedir(d);
	cr_expect_geq(count, 40, "only %d invalid fixtures", count);
}

Test(invalid, small_error_buffer_truncates_safely)
{
	char path[4096], small[40];
	struct bs_policy *p = NULL;
	const char *src = getenv("BS_SRC");

	snprintf(path, sizeof(path), "%s/%s/many-problems.cfg", src ? src : ".", FIXTURES);
	memset(small, 'x', sizeof(small));
	cr_expect_neq(bs_policy_load(path, &p, small, sizeof(small)), 0);
	cr_expect_lt(strlen(small), sizeof(small));
	cr_expect_eq(small[strlen(small) - 1], '\n');
	cr_expect_neq(bs_policy_load(path, &p, NULL, 0), 0, "a NULL buffer is fine");
}
