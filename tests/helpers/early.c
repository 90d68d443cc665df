/* Prints what libearly's constructor got when it bound before main(). */
#include <stdio.h>

extern char bs_early_result[128];

int main(void)
{
	printf("early %s\n", bs_early_result);
	return 0;
}
