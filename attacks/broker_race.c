/* broker_race: while one thread opens "d/../d/x" and "d/x" through the broker, another
** moves d out of the tenant and back (rename), and swaps "s" between a directory and a
** symlink to "/tmp/rt". Counts opens that returned a file outside the tenant. Run with
** the tenant as cwd; OUTSIDE is where d goes (outside the tenant). An open counts as an
** escape when what it reads is not the tenant's own "inside" file (a path that reads as
** outside afterwards is only d having moved after the open). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
static const char *outside;
static volatile int stop;
static void *mover(void *a) {
  char out[512];
  (void)a;
  snprintf(out, sizeof out, "%s/d", outside);
  while (!stop) {
    rename("d", out); rename(out, "d");
    unlink("s"); symlink("/tmp/rt", "s"); unlink("s"); mkdir("s", 0755); rmdir("s");
  }
  return NULL;
}
int main(int argc, char **argv) {
  pthread_t t;
  long escaped = 0, opened = 0, tries = 0;
  outside = argc > 1 ? argv[1] : "/tmp/rt";
  mkdir("d", 0755);
  { int fd = open("d/x", O_WRONLY | O_CREAT, 0644); if (fd >= 0) { write(fd, "inside\n", 7); close(fd); } }
  pthread_create(&t, NULL, mover, NULL);
  for (int i = 0; i < 20000; i++) {
    static const char *paths[] = { "d/x", "d/../d/x", "s/secret", "s/../secret" };
    for (int k = 0; k < 4; k++) {
      int fd = open(paths[k], O_RDONLY);
      char link[64], target[512];
      tries++;
      if (fd < 0) continue;
      opened++;
      snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
      ssize_t n = readlink(link, target, sizeof target - 1);
      target[n > 0 ? n : 0] = 0;
      {
        char buf[64] = "";
        ssize_t r = read(fd, buf, sizeof buf - 1);
        buf[r > 0 ? r : 0] = 0;
        if (strcmp(buf, "inside\n") != 0) { escaped++; fprintf(stderr, "ESCAPED: %s -> %s: %s\n", paths[k], target, buf); }
      }
      close(fd);
    }
  }
  stop = 1;
  pthread_join(t, NULL);
  printf("broker_race: %ld opens, %ld succeeded, %ld outside the tenant\n", tries, opened, escaped);
  return 0;
}
