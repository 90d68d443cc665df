/* An empty preloaded library: what any LD_PRELOAD costs, for the cost suite. */
int bs_empty(void);

__attribute__((visibility("default"))) int bs_empty(void)
{
	return 0;
}
