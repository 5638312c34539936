/*
** sx.h: the plain C API of sxlua's seccomp core.
**
** Syscall tables, a compiler from rules to classic BPF, a cBPF emulator with the
** kernel's constant-action-cache analysis, and a disassembler. Nothing here needs Lua,
** and every type is plain data so the header can be bound through LuaJIT's FFI.
** Functions that can fail return 0 on success and an SX_E_* code otherwise.
*/
#ifndef SX_H
#define SX_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SX_API __attribute__((visibility("default")))

/* ---- architectures ------------------------------------------------------ */

/* The order is the column order of the generated syscall table. */
enum sx_arch {
  SX_ARCH_X86_64, SX_ARCH_I386, SX_ARCH_X32, SX_ARCH_AARCH64, SX_ARCH_ARM,
  SX_ARCH_RISCV64, SX_ARCH_LOONGARCH64, SX_ARCH_S390X, SX_ARCH_PPC64LE,
  SX_ARCH_COUNT
};

/* x32 shares x86_64's audit arch and marks its syscall numbers with this bit. */
#define SX_X32_SYSCALL_BIT 0x40000000u

SX_API const char *sx_arch_name(int arch);          /* NULL when out of range */
SX_API int sx_arch_from_name(const char *name);     /* -1 when unknown */
SX_API int sx_arch_host(void);                      /* -1 when unsupported */
SX_API uint32_t sx_arch_audit(int arch);            /* AUDIT_ARCH_* value */
SX_API int sx_arch_big_endian(int arch);
/* Register width: 32 on i386 and arm, 64 elsewhere (x32 included). */
SX_API int sx_arch_bits(int arch);

/* ---- syscall tables ------------------------------------------------------ */

#define SX_NO_SYSCALL (-1L)

/* Number of `name` on `arch` (x32 numbers without the x32 bit), or SX_NO_SYSCALL. */
SX_API long sx_syscall_number(const char *name, int arch);
/* Name of `nr` on `arch` (x32 numbers with or without the bit), or NULL. */
SX_API const char *sx_syscall_name(long nr, int arch);
/* Is `name` a syscall on any architecture of the table? */
SX_API int sx_syscall_known(const char *name);
/* The table's name closest to `name` by edit distance, or NULL when none is close. */
SX_API const char *sx_syscall_suggest(const char *name);
SX_API size_t sx_syscall_count(void);
SX_API const char *sx_syscall_at(size_t i);         /* names in sorted order */

/* ---- syscall arguments ------------------------------------------------------ */

/* Argument `index` (0..5) of syscall `nr` on `arch` (x32 numbers with or without the bit):
** its name, NULL when the tables do not know it; its width in bytes as the kernel reads it
** (2, 4 or 8), 0 when unknown. */
SX_API const char *sx_arg_name(int arch, long nr, unsigned index);
SX_API int sx_arg_width(int arch, long nr, unsigned index);
/* How many low bits of that argument a condition compares: 16 or 32 for a 2- or 4-byte
** argument, 32 for any argument on i386 and arm (32-bit registers), else 64. */
SX_API int sx_arg_bits(int arch, long nr, unsigned index);

/* ---- actions: the kernel's SECCOMP_RET_* values -------------------------- */

#define SX_RET_KILL_PROCESS 0x80000000u
#define SX_RET_KILL_THREAD  0x00000000u
#define SX_RET_TRAP         0x00030000u
#define SX_RET_ERRNO        0x00050000u
#define SX_RET_USER_NOTIF   0x7fc00000u
#define SX_RET_TRACE        0x7ff00000u
#define SX_RET_LOG          0x7ffc0000u
#define SX_RET_ALLOW        0x7fff0000u
#define SX_RET_ACTION_FULL  0xffff0000u
#define SX_RET_DATA         0x0000ffffu
#define SX_MAX_ERRNO        4095u

/* Is `action` one the compiler accepts (known kind, errno data <= 4095)? */
SX_API int sx_action_valid(uint32_t action);
/* "allow", "kill_process", "errno(EPERM)", "trace(7)", ... written snprintf-style. */
SX_API size_t sx_action_format(uint32_t action, char *buf, size_t size);
/* Errno names from the C library: "EPERM" <-> 1; NULL / -1 when unknown. */
SX_API const char *sx_errno_name(int e);
SX_API int sx_errno_from_name(const char *name);

/* ---- rules ---------------------------------------------------------------- */

enum sx_op { SX_OP_EQ, SX_OP_NE, SX_OP_LT, SX_OP_LE, SX_OP_GT, SX_OP_GE,
             SX_OP_MASKED_EQ, SX_OP_COUNT };

SX_API const char *sx_op_name(int op);
SX_API int sx_op_from_name(const char *name);       /* -1 when unknown */

/* One comparison of a 64-bit argument, unsigned: arg OP value, or
** (arg & mask) == value for SX_OP_MASKED_EQ. */
struct sx_cond {
  unsigned index;                                   /* 0..5 */
  int op;                                           /* enum sx_op */
  uint64_t mask;
  uint64_t value;
};

#define SX_MAX_CONDS 16

/* A syscall by name, or by number (syscall == NULL) for one newer than the tables.
** Conditions all must hold; a rule without conditions is the syscall's fallback. */
struct sx_rule {
  uint32_t action;
  const char *syscall;
  long number;
  unsigned ncond;
  const struct sx_cond *conds;
};

struct sx_policy {
  const struct sx_rule *rules;
  size_t nrules;
  uint32_t default_action;
  uint32_t bad_arch_action;
  const int *arches;                                /* enum sx_arch, no repeats */
  size_t narches;
};

/* ---- programs ------------------------------------------------------------- */

/* Same layout as the kernel's struct sock_filter. */
struct sx_insn {
  uint16_t code;
  uint8_t jt, jf;
  uint32_t k;
};

#define SX_MAX_INSNS 4096

struct sx_program {
  struct sx_insn *insns;
  size_t len;
};

enum sx_status {
  SX_OK, SX_E_UNSUPPORTED_ARCH, SX_E_BAD_ACTION, SX_E_UNKNOWN_SYSCALL,
  SX_E_DUPLICATE_RULE, SX_E_BAD_RULE, SX_E_TOO_BIG, SX_E_NOMEM, SX_E_BAD_PROGRAM,
  SX_E_INSTALL, SX_E_TSYNC
};

/* What went wrong and where: `rule` is the index of the offending rule or -1, and `other`
** the index of a second rule the mistake is about (the earlier of two rules for one
** syscall), or -1. The message says what is wrong; rule and other say which rules. */
struct sx_error {
  int code;
  long rule;
  long other;
  char message[256];
};

SX_API const char *sx_status_name(int code);        /* "unknown_syscall", ... */

/* Compile `policy` into `out` (free with sx_program_free). */
SX_API int sx_compile(const struct sx_policy *policy, struct sx_program *out,
                      struct sx_error *err);
SX_API void sx_program_free(struct sx_program *prog);

/* ---- emulator ------------------------------------------------------------- */

/* The kernel's struct seccomp_data. */
struct sx_data {
  int32_t nr;
  uint32_t arch;
  uint64_t instruction_pointer;
  uint64_t args[6];
};

/* Check a program as the kernel's seccomp loader would: valid opcodes, in-bounds
** forward jumps, aligned loads inside seccomp_data, a return at every end. */
SX_API int sx_check(const struct sx_insn *insns, size_t len, struct sx_error *err);

/* Run a checked program; *action gets the returned value, *executed the number of
** instructions executed. */
SX_API int sx_emulate(const struct sx_insn *insns, size_t len, const struct sx_data *data,
                      uint32_t *action, size_t *executed);

/* sx_emulate that also records the index of each instruction executed in path[0..cap);
** *executed may exceed cap (only the first cap are recorded). */
SX_API int sx_trace(const struct sx_insn *insns, size_t len, const struct sx_data *data,
                    uint32_t *action, size_t *path, size_t cap, size_t *executed);

/* Would the kernel's constant-action cache allow syscall `nr` of audit arch `arch`
** without running the filter? (The kernel's seccomp_is_const_allow analysis: the
** program may look only at nr and arch on the way to RET ALLOW.) */
SX_API int sx_cache_eligible(const struct sx_insn *insns, size_t len, uint32_t arch,
                             int32_t nr);

/* Does the program decide syscall `nr` of audit arch `arch` from nr and arch alone, with
** the instructions the kernel's cache analysis follows? Then *action is the decision. */
SX_API int sx_constant_action(const struct sx_insn *insns, size_t len, uint32_t arch,
                              int32_t nr, uint32_t *action);

/* ---- disassembler --------------------------------------------------------- */

/* Write the program as text, one instruction a line, with syscall and arch names,
** into buf (snprintf-style); returns the length the whole text needs. */
SX_API size_t sx_disasm(const struct sx_insn *insns, size_t len, char *buf, size_t size);

/* ---- installing on the calling process --------------------------------------- */

enum sx_install_flags {
  SX_INSTALL_TSYNC = 1u << 0,       /* every thread of the process, or none */
  SX_INSTALL_LOG = 1u << 1,         /* SECCOMP_FILTER_FLAG_LOG */
  SX_INSTALL_SPEC_ALLOW = 1u << 2,  /* SECCOMP_FILTER_FLAG_SPEC_ALLOW */
  SX_INSTALL_KEEP_PRIVS = 1u << 3,  /* do not set no_new_privs even without CAP_SYS_ADMIN */
  SX_INSTALL_NO_NEW_PRIVS = 1u << 4 /* set no_new_privs even with CAP_SYS_ADMIN */
};

struct sx_install_error {
  int code;                         /* SX_E_INSTALL, SX_E_TSYNC or SX_E_BAD_PROGRAM */
  int error;                        /* errno */
  long tid;                         /* SX_E_TSYNC: the thread that could not be synchronised */
  char message[256];
};

/* Install a checked program on the calling process (all threads with SX_INSTALL_TSYNC).
** no_new_privs is set first unless the process has CAP_SYS_ADMIN or KEEP_PRIVS is given.
** Irreversible: a filter cannot be removed. */
SX_API int sx_install(const struct sx_insn *insns, size_t len, unsigned flags,
                      struct sx_install_error *err);

/* ---- probe: one syscall under a filter, answered by the real kernel ---------- */

enum sx_probe_outcome {
  SX_PROBE_RETURNED,       /* value: the syscall's return value */
  SX_PROBE_ERRNO,          /* value: the errno it failed with */
  SX_PROBE_SIGNALED,       /* value: the signal that ended the child during the call */
  SX_PROBE_INSTALL_FAILED  /* value: the errno seccomp(2) refused the filter with */
};

struct sx_probe_result {
  int outcome;
  long value;
};

/* Fork a child, install the program with seccomp(2) (after no_new_privs), make the
** raw syscall `nr` with `args`, and report what the kernel did. The filter never
** touches the calling process. Returns 0, or -1 with errno when fork or wait fail. */
SX_API int sx_probe(const struct sx_insn *insns, size_t len, long nr, const uint64_t args[6],
                    struct sx_probe_result *result);

#ifdef __cplusplus
}
#endif
#endif
