/* oomadj: as root (no CAP_SYS_PTRACE needed), make sxlua (the reaper's parent, through the
** host's /proc) the OOM killer's first choice: write 1000 to its oom_score_adj. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
static long ppid_of(long pid) {
  char path[64], buf[512]; int fd; ssize_t n; char *p;
  if (pid) snprintf(path, sizeof path, "/proc/%ld/stat", pid); else snprintf(path, sizeof path, "/proc/self/stat");
  if ((fd = open(path, O_RDONLY)) < 0) return -1;
  n = read(fd, buf, sizeof buf - 1); close(fd); if (n <= 0) return -1; buf[n] = 0;
  return (p = strrchr(buf, ')')) ? strtol(p + 4, NULL, 10) : -1;
}
int main(void) {
  long reaper = ppid_of(0), agent = ppid_of(reaper);
  char path[64], buf[16] = "";
  int fd;
  snprintf(path, sizeof path, "/proc/%ld/oom_score_adj", agent);
  fd = open(path, O_WRONLY);
  if (fd < 0 || write(fd, "1000", 4) != 4) { perror(path); return 1; }
  close(fd);
  fd = open(path, O_RDONLY);
  read(fd, buf, sizeof buf - 1);
  printf("sxlua (host pid %ld) oom_score_adj is now %s", agent, buf);
  return 0;
}
