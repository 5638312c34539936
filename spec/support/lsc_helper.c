/*
** lsc_helper.c: libseccomp 2.5 as a command, for the differential test.
**
**   lsc_helper compile [OPTIMIZE] < rulefile > program.bpf
**   lsc_helper names ARCH... < names        (prints: name number-on-each-arch...)
**
** A test-only peer: it links libseccomp, the product never does. `names` prints
** libseccomp's own syscall numbers (x32 ones with the x32 bit, -1 when unknown) so the
** test can keep to syscalls both tables agree on.
*/
#define _GNU_SOURCE
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lsc_build.h"

static int compile(int optimize) {
  struct rf_policy p;
  char why[300];
  unsigned char *bpf;
  size_t len;
  int memfd = memfd_create("lsc_helper", 0);
  if (memfd < 0) { perror("memfd_create"); return 1; }
  if (rf_read(stdin, &p, why, sizeof why) ||
      lsc_compile(&p, optimize, memfd, &bpf, &len, why, sizeof why)) {
    fprintf(stderr, "lsc_helper: %s\n", why);
    return 2;
  }
  fwrite(bpf, 1, len, stdout);
  free(bpf);
  rf_free(&p);
  return fflush(stdout) ? 1 : 0;
}

static int names(int narch, char **arches) {
  char line[256];
  while (fgets(line, sizeof line, stdin)) {
    line[strcspn(line, "\r\n")] = '\0';
    if (!line[0]) continue;
    printf("%s", line);
    for (int a = 0; a < narch; a++) {
      uint32_t token = lsc_arch_token(arches[a]);
      int nr = token ? seccomp_syscall_resolve_name_arch(token, line) : __NR_SCMP_ERROR;
      printf(" %d", nr < 0 ? -1 : nr);
    }
    printf("\n");
  }
  return fflush(stdout) ? 1 : 0;
}

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "compile") == 0)
    return compile(argc >= 3 ? atoi(argv[2]) : 1);
  if (argc >= 3 && strcmp(argv[1], "names") == 0)
    return names(argc - 2, argv + 2);
  fprintf(stderr, "usage: lsc_helper compile [OPTIMIZE] < rules | names ARCH... < names\n");
  return 1;
}
