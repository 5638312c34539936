/* readproc: print /proc/PID/FILE for the parent (reaper) and grandparent (sxlua) as the host names them */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <errno.h>
static long field(long pid, const char *name) {
  char path[64], line[256]; long v = -1; size_t n = strlen(name); FILE *f;
  snprintf(path, sizeof path, pid ? "/proc/%ld/status" : "/proc/self/status", pid);
  if (!(f = fopen(path, "r"))) return -1;
  while (fgets(line, sizeof line, f)) if (!strncmp(line, name, n) && line[n] == ':') { v = strtol(line + n + 1, 0, 10); break; }
  fclose(f); return v;
}
int main(int argc, char **argv) {
  long reaper = field(0, "PPid"), agent = field(reaper, "PPid");
  long pid = argc > 2 && !strcmp(argv[2], "agent") ? agent : reaper;
  char path[64], buf[65536]; int fd; ssize_t n;
  snprintf(path, sizeof path, "/proc/%ld/%s", pid, argv[1]);
  fd = open(path, O_RDONLY);
  if (fd < 0) { printf("%s: %s\n", path, strerror(errno)); return 1; }
  while ((n = read(fd, buf, sizeof buf)) > 0) { for (ssize_t i = 0; i < n; i++) if (!buf[i]) buf[i] = '\n'; fwrite(buf, 1, n, stdout); }
  if (n < 0) printf("read %s: %s\n", path, strerror(errno));
  return 0;
}
