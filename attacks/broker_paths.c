/* broker_paths: openat(2) paths meant to leave the tenant, through policies/broker.lua's
** handler. Run with the tenant as cwd; prints each path and the result (ok = it opened,
** followed by what the descriptor names). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

static void on_alarm(int sig) { (void)sig; }

static void try(const char *label, int dirfd, const char *path, int flags) {
  int fd;
  alarm(3);                           /* an unanswered call shows as EINTR after 3 s */
  fd = openat(dirfd, path, flags);
  alarm(0);
  char link[64], target[512] = "";
  if (fd >= 0) {
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, target, sizeof target - 1);
    target[n > 0 ? n : 0] = 0;
    printf("%-44s OPENED -> %s\n", label, target);
    close(fd);
  } else {
    printf("%-44s %s\n", label, strerrorname_np(errno));
  }
}

int main(int argc, char **argv) {
  const char *tenant = argc > 1 ? argv[1] : ".";
  char p[8192];
  int dfd = open(".", O_RDONLY | O_DIRECTORY);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;           /* no SA_RESTART */
  sigaction(SIGALRM, &sa, NULL);
  try("/etc/passwd", AT_FDCWD, "/etc/passwd", O_RDONLY);
  try("../secret", AT_FDCWD, "../secret", O_RDONLY);
  snprintf(p, sizeof p, "%s/../secret", tenant); try("TENANT/../secret", AT_FDCWD, p, O_RDONLY);
  snprintf(p, sizeof p, "/%s/../secret", tenant); try("/TENANT/../secret (double slash)", AT_FDCWD, p, O_RDONLY);
  snprintf(p, sizeof p, "%s/./../secret", tenant); try("TENANT/./../secret", AT_FDCWD, p, O_RDONLY);
  snprintf(p, sizeof p, "%s//data.txt", tenant); try("TENANT//data.txt (control)", AT_FDCWD, p, O_RDONLY);
  snprintf(p, sizeof p, "%s/", tenant); try("TENANT/ (the dir itself)", AT_FDCWD, p, O_RDONLY | O_DIRECTORY);
  try("//usr/../etc/passwd", AT_FDCWD, "//usr/../etc/passwd", O_RDONLY);
  try("/usr/../etc/passwd", AT_FDCWD, "/usr/../etc/passwd", O_RDONLY);
  try("/lib/../etc/passwd", AT_FDCWD, "/lib/../etc/passwd", O_RDONLY);
  try("/etc/ld.so.cache/../passwd", AT_FDCWD, "/etc/ld.so.cache/../passwd", O_RDONLY);
  try("/proc/self/root/etc/passwd", AT_FDCWD, "/proc/self/root/etc/passwd", O_RDONLY);
  try("/proc/self/cwd/../secret", AT_FDCWD, "/proc/self/cwd/../secret", O_RDONLY);
  snprintf(p, sizeof p, "/proc/self/fd/%d/../secret", dfd); try("/proc/self/fd/N/../secret", AT_FDCWD, p, O_RDONLY);
  try("dirfd=tenant fd, ../secret", dfd, "../secret", O_RDONLY);
  try("dirfd=tenant fd, data.txt", dfd, "data.txt", O_RDONLY);
  try("/usr/bin/passwd O_RDWR (system is read-only)", AT_FDCWD, "/usr/bin/passwd", O_RDWR);
  try("/usr O_TMPFILE", AT_FDCWD, "/usr", O_TMPFILE | O_RDWR);
  try("data.txt O_RDONLY|O_CREAT (in tenant)", AT_FDCWD, "data.txt", O_RDONLY | O_CREAT);
  memset(p, 'a', sizeof p); p[0] = '/'; p[sizeof p - 1] = 0;
  try("8 KiB path", AT_FDCWD, p, O_RDONLY);
  {
    char *two = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memset(two, 'b', 4096);                       /* no NUL in the first 4096 bytes */
    munmap(two + 4096, 4096);
    try("no NUL before an unmapped page", AT_FDCWD, two, O_RDONLY);
  }
  try("non-UTF8 \\xff\\xfe", AT_FDCWD, "\xff\xfe", O_RDONLY);
  try("escape (symlink -> /etc/passwd)", AT_FDCWD, "escape", O_RDONLY);
  try("escape O_NOFOLLOW|O_PATH", AT_FDCWD, "escape", O_NOFOLLOW | O_PATH);
  try("data.txt O_PATH (inside the tenant)", AT_FDCWD, "data.txt", O_PATH);
  return 0;
}
