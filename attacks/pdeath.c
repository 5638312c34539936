/* pdeath: print this process's parent-death signal (PR_GET_PDEATHSIG) and its parent. */
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>
int main(void) { int s = -1; prctl(PR_GET_PDEATHSIG, &s); printf("pdeath signal %d, ppid %d\n", s, getppid()); return 0; }
