/* Whether this process's uids are the machine's. */
#ifndef BS_USERNS_H
#define BS_USERNS_H

#include <stdbool.h>

/* Tells whether this process is in the initial user namespace, where getuid() and
 * /proc's uids are the real users'. In another, uid 0 is whoever made it: rules on
 * uid and user match nothing there. */
bool bs_in_initial_userns(void);

#endif
