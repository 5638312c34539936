/*
** install.c: install a filter on the calling process.
**
** For gateways that drop to their syscall envelope once initialised: the filter goes
** onto every thread at once with SECCOMP_FILTER_FLAG_TSYNC. When a thread cannot be
** synchronised (it already has a filter that is not an ancestor of ours) the kernel
** answers with that thread's id instead of -1, and nothing is installed anywhere. A
** filter that notifies is refused: nobody would be there to answer.
*/
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "rules.h"

static int has_sys_admin(void) {
  struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
  memset(data, 0, sizeof data);
  if (syscall(SYS_capget, &header, data) != 0) return 0;
  return (data[CAP_SYS_ADMIN / 32].effective >> (CAP_SYS_ADMIN % 32)) & 1;
}

static int install_error(struct sx_install_error *err, int code, int e, long tid,
                         const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int install_error(struct sx_install_error *err, int code, int e, long tid,
                         const char *fmt, ...) {
  va_list ap;
  if (err) {
    err->code = code;
    err->error = e;
    err->tid = tid;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
  }
  return code;
}

int sx_install(const struct sx_insn *insns, size_t len, unsigned flags,
               struct sx_install_error *err) {
  struct sock_fprog prog;
  unsigned long kflags = 0;
  long rv;
  struct sx_error check;
  if (sx_check(insns, len, &check) != SX_OK)
    return install_error(err, SX_E_BAD_PROGRAM, EINVAL, 0, "%s", check.message);
  /* A notified call waits for an answer from another process; here nothing could answer
  ** but the caller itself, stuck in that very call. */
  for (size_t i = 0; i < len; i++)
    if (insns[i].code == (BPF_RET | BPF_K) && (insns[i].k & SX_RET_ACTION_FULL) == SX_RET_USER_NOTIF)
      return install_error(err, SX_E_BAD_PROGRAM, EINVAL, 0, "the filter returns notify "
                           "(instruction %zu), and a process cannot supervise itself: its "
                           "notified calls would wait forever; run the work under sx.process "
                           "or sxlua, which answer them", i);
  int set_nnp = (flags & SX_INSTALL_NO_NEW_PRIVS) ||
                (!(flags & SX_INSTALL_KEEP_PRIVS) && !has_sys_admin());
  if (set_nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    return install_error(err, SX_E_INSTALL, errno, 0, "could not set no_new_privs: %s",
                         strerror(errno));
  if (flags & SX_INSTALL_TSYNC) kflags |= SECCOMP_FILTER_FLAG_TSYNC;
  if (flags & SX_INSTALL_LOG) kflags |= SECCOMP_FILTER_FLAG_LOG;
  if (flags & SX_INSTALL_SPEC_ALLOW) kflags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
  prog.len = (unsigned short)len;
  prog.filter = (struct sock_filter *)(void *)insns;
  rv = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, kflags, &prog);
  if (rv == 0) return SX_OK;
  if (rv > 0)
    return install_error(err, SX_E_TSYNC, ESRCH, rv, "thread %ld could not be synchronised "
                         "(it already has a filter that is not an ancestor of this one); "
                         "nothing was installed", rv);
  if (errno == EACCES)
    return install_error(err, SX_E_INSTALL, errno, 0, "the kernel refused the filter: "
                         "no_new_privs is not set and the process lacks CAP_SYS_ADMIN");
  return install_error(err, SX_E_INSTALL, errno, 0, "the kernel refused the filter: %s",
                       strerror(errno));
}
