/*
** agent_area.h: the memory the spawn agent's children use (agent_area.c), for agent.c.
**
** One spawn's area is the report page (struct sx_report, a shared page) and one mapping:
**
**   [guard][lower stack][guard][upper stack][guard][the gate's pages]
**
** The lower stack is the workload's when the reaper has the upper one (a PID namespace),
** else unused; agent.c fills the gate's pages (make_gate). The guard under the gate keeps
** what reads a stack upwards out of it: CPU-wide perf samples of the reaper's user stack
** (root keeps CAP_PERFMON) would otherwise copy the gate's pages whole. Mapping, populating and unmapping this costs a spawn more than its
** other syscalls together on a VM (on the benchmarks' VM the munmap alone took 75-125 us
** of the caller's CPU), so an area can be kept in a struct sx_agent_spare for the next
** spawn.
*/
#ifndef SX_AGENT_AREA_H
#define SX_AGENT_AREA_H

#include <stddef.h>

#include "sx_agent.h"

enum { SX_AREA_STACK = 64 * 1024 };   /* each child's stack; a guard page below it */

/* a->report, a->stacks, a->stacks_size, a->gate and a->gate_size for a spawn whose gate
** needs gate_size bytes: the spare's area when it has one that big, else a new one, with
** the pages the children write at once populated. 0, or -1 with errno. */
int sx_area_take(struct sx_agent *a, size_t gate_size);

/* The top of the upper stack (the reaper's, or the workload's without a namespace) and of
** the lower one (the workload's under the reaper). */
char *sx_area_upper_top(const struct sx_agent *a);
char *sx_area_lower_top(const struct sx_agent *a);

/* Give a's area back, once no child is left to use it: to the spare, scrubbed, when it
** holds none; else to the kernel. */
void sx_area_give_back(struct sx_agent *a);

#endif
