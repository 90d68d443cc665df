/*
 * Text appended into a fixed buffer, cut to what fits, without stdio: the shim
 * builds its records and their words inside its hooks, where vfprintf was most of
 * what a record cost (docs/cost.md).
 */
#ifndef BS_BUF_H
#define BS_BUF_H

#include <stddef.h>
#include <string.h>

struct bs_buf {
	char *p;
	size_t len, cap;		/* p[len] is '\0'; cap > 0 */
};

/* Appends the n bytes at s, cut to what fits (the buffer always ends in '\0'). */
static inline void bs_put_mem(struct bs_buf *b, const char *s, size_t n)
{
	if (b->len + 1 >= b->cap)
		return;
	if (n > b->cap - b->len - 1)
		n = b->cap - b->len - 1;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* Appends the string s. */
static inline void bs_put(struct bs_buf *b, const char *s)
{
	bs_put_mem(b, s, strlen(s));
}

/* Appends v in decimal, zero-padded to width digits. */
static inline void bs_put_num(struct bs_buf *b, unsigned long long v, int width)
{
	char d[24];
	int n = 0;

	do
		d[sizeof(d) - 1 - n++] = (char)('0' + v % 10);
	while ((v /= 10) || n < width);
	bs_put_mem(b, d + sizeof(d) - n, (size_t)n);
}

#endif
