/* exec_tries: every way this workload knows to exec a program after it started, each in a
** child of its own (so a kill ends only that child). Prints one line per way:
**   NAME killed SIG | NAME failed ERRNO | NAME EXECUTED (a break: the program ran)
** The program exec'd is /bin/sh -c 'echo ran > MARKER'; MARKER's presence is the proof.
** Usage: exec_tries [--after FILE] MARKER; with --after, fork a survivor that waits for FILE
** (meant to appear after sxlua was killed), while the workload's main process waits. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *marker;
static char cmd[512];

static char *const *args(void) {
  static char *a[4];
  a[0] = "sh"; a[1] = "-c"; a[2] = cmd; a[3] = NULL;
  return a;
}

static int t_execve(void) { return (int)syscall(SYS_execve, "/bin/sh", args(), NULL); }
static int t_execveat_path(void) { return (int)syscall(SYS_execveat, AT_FDCWD, "/bin/sh", args(), NULL, 0); }
static int t_execveat_empty(void) {
  int fd = open("/bin/sh", O_PATH | O_CLOEXEC);
  return (int)syscall(SYS_execveat, fd, "", args(), NULL, AT_EMPTY_PATH);
}
static int t_fexecve(void) {
  int fd = open("/bin/dash", O_RDONLY);
  fexecve(fd, args(), environ);
  return -1;
}
static int t_proc_self_fd(void) {
  char p[64];
  int fd = open("/bin/dash", O_RDONLY);
  snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
  return (int)syscall(SYS_execve, p, args(), NULL);
}
static int t_null_argv(void) { return (int)syscall(SYS_execve, "/bin/sh", NULL, NULL); }
/* i386 execve (11) through int $0x80, with 32-bit pointers (this kernel has IA32 emulation) */
static int t_int80(void) {
  char *low = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
  unsigned *argv32 = (unsigned *)(low + 1024);
  long ret;
  strcpy(low, "/bin/sh");
  strcpy(low + 16, "-c");
  strcpy(low + 32, cmd);
  argv32[0] = (unsigned)(uintptr_t)low; argv32[1] = (unsigned)(uintptr_t)(low + 16);
  argv32[2] = (unsigned)(uintptr_t)(low + 32); argv32[3] = 0;
  __asm__ volatile("int $0x80" : "=a"(ret) : "a"(11L), "b"(low), "c"(argv32), "d"(0L)
                   : "memory", "cc", "r8", "r9", "r10", "r11");
  errno = ret < 0 ? (int)-ret : 0;
  return (int)ret;
}
/* x32 execve: 520 | __X32_SYSCALL_BIT (this kernel has no x32: ENOSYS at best) */
static int t_x32(void) { return (int)syscall(0x40000000 | 520, "/bin/sh", args(), NULL); }
/* the x86_64 number with the x32 bit */
static int t_x32_bit59(void) { return (int)syscall(0x40000000 | 59, "/bin/sh", args(), NULL); }
/* a thread execs while the main thread also does */
static void *exec_thread(void *arg) { (void)arg; t_execve(); return NULL; }
static int t_threads(void) {
  pthread_t t[4];
  for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, exec_thread, NULL);
  return t_execve();
}
static int t_vfork(void) {
  pid_t c = vfork();
  if (c == 0) { t_execve(); _exit(100 + errno); }
  { int st; waitpid(c, &st, 0); errno = WIFEXITED(st) ? WEXITSTATUS(st) - 100 : 0; }
  return -1;
}

static const struct { const char *name; int (*fn)(void); } tries[] = {
  { "execve", t_execve }, { "execveat_path", t_execveat_path },
  { "execveat_AT_EMPTY_PATH", t_execveat_empty }, { "fexecve", t_fexecve },
  { "execve_/proc/self/fd/N", t_proc_self_fd }, { "execve_NULL_argv", t_null_argv },
  { "i386_int80_execve", t_int80 }, { "x32_execve", t_x32 }, { "x32_bit_59", t_x32_bit59 },
  { "threads_exec", t_threads }, { "vfork_exec", t_vfork },
};

int main(int argc, char **argv) {
  if (argc > 3 && !strcmp(argv[1], "--after")) {
    const char *go = argv[2];
    if (fork() != 0) { pause(); return 0; }
    prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
    while (access(go, F_OK) != 0) usleep(20000);
    argv += 2;
    argc -= 2;
  }
  if (argc < 2) return 2;
  marker = argv[1];
  setvbuf(stdout, NULL, _IONBF, 0);
  for (size_t i = 0; i < sizeof tries / sizeof *tries; i++) {
    pid_t c;
    int st;
    char m[600];
    snprintf(m, sizeof m, "%s.%s", marker, tries[i].name);
    snprintf(cmd, sizeof cmd, "echo ran > %s", m);
    c = fork();
    if (c == 0) {
      int rc = tries[i].fn();
      printf("%-26s failed %s\n", tries[i].name, rc < 0 || errno ? strerrorname_np(errno) : "(returned)");
      _exit(0);
    }
    waitpid(c, &st, 0);
    usleep(100000);
    if (access(m, F_OK) == 0) printf("%-26s EXECUTED\n", tries[i].name);
    else if (WIFSIGNALED(st)) printf("%-26s killed %s\n", tries[i].name, sigabbrev_np(WTERMSIG(st)));
  }
  return 0;
}
