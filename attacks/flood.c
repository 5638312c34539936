/* flood: many processes and threads make brokered opens at once while a sibling kills
** them mid-call; then the survivor sleeps so sxlua's descriptors can be counted from
** outside. Usage: flood SECONDS_TO_SLEEP_AFTER */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
static void *opener(void *a) { (void)a; for (;;) { int fd = open("data.txt", O_RDONLY); if (fd >= 0) close(fd); } return NULL; }
int main(int argc, char **argv) {
  pid_t kids[16];
  int opened = 0;
  for (int round = 0; round < 20; round++) {
    for (int i = 0; i < 16; i++) {
      if ((kids[i] = fork()) == 0) {
        pthread_t t[4];
        for (int j = 0; j < 4; j++) pthread_create(&t[j], NULL, opener, NULL);
        opener(NULL);
      }
    }
    usleep(50000);
    for (int i = 0; i < 16; i++) kill(kids[i], SIGKILL);
    for (int i = 0; i < 16; i++) waitpid(kids[i], NULL, 0);
  }
  for (int i = 0; i < 100; i++) { int fd = open("data.txt", O_RDONLY); if (fd >= 0) { opened++; close(fd); } }
  printf("flood: done, %d of 100 opens still work; sleeping\n", opened);
  fflush(stdout);
  sleep(argc > 1 ? atoi(argv[1]) : 5);
  return 0;
}
