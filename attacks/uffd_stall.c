/* uffd_stall: stop sxlua's supervisor inside its read of our memory, for as long as we like.
** A root workload keeps CAP_SYS_ADMIN-free access to /dev/userfaultfd (mode 0600, root):
** USERFAULTFD_IOC_NEW gives a full userfaultfd, which catches faults from other processes'
** process_vm_readv too (the sysctl and the CAP_SYS_PTRACE that sxlua drops only guard the
** userfaultfd(2) syscall). We make a call the policy kills (execve, exec-once) with its
** path in a registered, never-touched page. sxlua decodes the path for its report BEFORE it
** kills: its process_vm_readv faults into our userfaultfd and sleeps. Now we interrupt our
** own call with a signal (EINTR, the notification is withdrawn), let the supervisor go, and
** it finds the notification gone: nobody is killed. Deterministic, every time.
** With --forever the supervisor is left stuck (nothing else gets answered; SIGTERM to sxlua
** is never forwarded) until the workload ends. With --call mkdir or --call openat the
** stalled path goes to that call instead (one a policy denies with an errno and reports,
** or one a handler reads): the supervisor must give up its read and answer. With --pile N
** (third wave's red team) it stalls read after read: N children each register a page,
** leave a holder that keeps it stalled for good, and make a call the policy kills (mount)
** with three paths there; then it prints how many threads sxlua has ("sxlua threads N").
** Usage: uffd_stall [--forever] [--call execve|mkdir|openat] | uffd_stall --pile N */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static char *page;
static const char *which = "execve";
static volatile pid_t caller;
static volatile long result = 1, err;

static void on_usr1(int s) { (void)s; }

static void *call(void *arg) {
  (void)arg;
  caller = (pid_t)syscall(SYS_gettid);
  if (!strcmp(which, "mkdir")) result = syscall(SYS_mkdir, page, 0700);
  else if (!strcmp(which, "openat")) result = syscall(SYS_openat, AT_FDCWD, page, O_RDONLY);
  else result = syscall(SYS_execve, page, NULL, NULL);   /* killed by the policy */
  err = errno;
  return NULL;
}

/* A number from /proc/WHO/status (the host's /proc, even inside the namespace). */
static long status_field(const char *who, const char *name) {
  char path[64], line[256];
  long v = -1;
  FILE *f;
  snprintf(path, sizeof path, "/proc/%s/status", who);
  if (!(f = fopen(path, "r"))) return -1;
  while (fgets(line, sizeof line, f))
    if (!strncmp(line, name, strlen(name))) v = strtol(line + strlen(name), NULL, 10);
  fclose(f);
  return v;
}

/* sxlua: our parent, or in its PID namespace our parent's (the reaper, pid 1 there, also
** named sxlua: its NSpid line ends in 1). */
static long sxlua_pid(void) {
  char who[32], path[64], line[256];
  long parent = status_field("self", "PPid:");
  int reaper = 0;
  FILE *f;
  snprintf(path, sizeof path, "/proc/%ld/status", parent);
  if ((f = fopen(path, "r"))) {
    while (fgets(line, sizeof line, f))
      if (!strncmp(line, "NSpid:", 6)) {       /* "NSpid:\tHOST[\tIN_NAMESPACE]" */
        char *last = strrchr(line, '\t');
        reaper = last && last != strchr(line, '\t') && atoi(last + 1) == 1;
      }
    fclose(f);
  }
  if (!reaper) return parent;
  snprintf(who, sizeof who, "%ld", parent);
  return status_field(who, "PPid:");
}

static int pile(int rounds) {
  char who[32];
  for (int r = 0; r < rounds; r++) {
    pid_t c = fork();
    if (c == 0) {
      struct uffdio_api api = { .api = UFFD_API };
      struct uffdio_register reg;
      int dev = open("/dev/userfaultfd", O_RDWR), uffd;
      char *p;
      if (dev < 0 || (uffd = ioctl(dev, USERFAULTFD_IOC_NEW, 0)) < 0 ||
          ioctl(uffd, UFFDIO_API, &api) != 0) _exit(1);
      p = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      reg.range.start = (unsigned long)p;
      reg.range.len = 3 * 4096;
      reg.mode = UFFDIO_REGISTER_MODE_MISSING;
      if (ioctl(uffd, UFFDIO_REGISTER, &reg) != 0) _exit(1);
      if (fork() == 0) for (;;) pause();   /* the holder: keeps the pages stalled */
      syscall(SYS_mount, p, p + 4096, p + 8192, 0, 0);   /* killed by the policy */
      _exit(3);
    }
    waitpid(c, NULL, 0);
  }
  snprintf(who, sizeof who, "%ld", sxlua_pid());
  printf("sxlua threads %ld\n", status_field(who, "Threads:"));
  return 0;
}

int main(int argc, char **argv) {
  int forever = 0;
  struct uffdio_api api = { .api = UFFD_API };
  struct uffdio_register reg;
  struct uffd_msg msg;
  struct sigaction sa;
  pthread_t t;
  int dev, uffd;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--forever")) forever = 1;
    else if (!strcmp(argv[i], "--call") && i + 1 < argc) which = argv[++i];
    else if (!strcmp(argv[i], "--pile") && i + 1 < argc) return pile(atoi(argv[++i]));
    else { fprintf(stderr, "usage: uffd_stall [--forever] [--call execve|mkdir|openat]\n"); return 2; }
  }
  dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
  if (dev < 0) { perror("/dev/userfaultfd"); return 1; }
  uffd = ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC);
  if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api) != 0) { perror("userfaultfd"); return 1; }
  page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  reg.range.start = (unsigned long)page;
  reg.range.len = 4096;
  reg.mode = UFFDIO_REGISTER_MODE_MISSING;
  if (ioctl(uffd, UFFDIO_REGISTER, &reg) != 0) { perror("UFFDIO_REGISTER"); return 1; }
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;            /* no SA_RESTART */
  sigaction(SIGUSR1, &sa, NULL);
  pthread_create(&t, NULL, call, NULL);
  if (read(uffd, &msg, sizeof msg) != (ssize_t)sizeof msg) { perror("read uffd"); return 1; }
  fprintf(stderr, "uffd_stall: the supervisor faulted on 0x%llx: it is stuck reading our memory\n",
          (unsigned long long)msg.arg.pagefault.address);
  syscall(SYS_tgkill, getpid(), caller, SIGUSR1);
  pthread_join(t, NULL);
  fprintf(stderr, "uffd_stall: our %s returned %ld (%s) and we are alive\n", which, result,
          result < 0 ? strerror((int)err) : "?");
  if (forever) {
    fprintf(stderr, "uffd_stall: leaving the supervisor stuck for 5 s\n");
    sleep(5);
  }
  {
    struct uffdio_zeropage z = { .range = { (unsigned long)page, 4096 }, .mode = 0 };
    ioctl(uffd, UFFDIO_ZEROPAGE, &z);
  }
  sleep(1);
  fprintf(stderr, "uffd_stall: released the supervisor; still alive\n");
  return 0;
}
