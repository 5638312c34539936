/* fdlist: print the descriptors this process holds, except the one reading
** /proc/self/fd, in increasing order on one line, to stdout or to the file named by the
** first argument (opened after the listing). A workload for process_spec. */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

static int cmp(const void *a, const void *b) {
  return *(const int *)a - *(const int *)b;
}

int main(int argc, char **argv) {
  FILE *out = stdout;
  DIR *d = opendir("/proc/self/fd");
  struct dirent *e;
  int fds[1024], n = 0;
  if (!d) return 2;
  while ((e = readdir(d)) && n < 1024) {
    int fd = atoi(e->d_name);
    if (e->d_name[0] != '.' && fd != dirfd(d)) fds[n++] = fd;
  }
  closedir(d);
  qsort(fds, (size_t)n, sizeof *fds, cmp);
  if (argc > 1 && !(out = fopen(argv[1], "w"))) return 2;
  for (int i = 0; i < n; i++) fprintf(out, i ? " %d" : "%d", fds[i]);
  fprintf(out, "\n");
  return fclose(out) == 0 ? 0 : 2;
}
