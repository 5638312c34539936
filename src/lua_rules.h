/*
** lua_rules.h: sx.core's one reader of rule tables (lua_rules.c).
*/
#ifndef SX_LUA_RULES_H
#define SX_LUA_RULES_H

#include <lua.h>

/* Add build, arches_of, ruleset, register_type and action_value to the module table on
** the stack top. */
void sx_open_rules(lua_State *L);

#endif
