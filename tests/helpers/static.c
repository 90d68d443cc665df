/* A statically linked program: the launcher must warn that no preload reaches it. */
#include <stdio.h>

int main(void)
{
	puts("static ran");
	return 0;
}
