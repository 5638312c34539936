/*
** lua_rules.h: sx.core's quick path for rule tables (lua_rules.c).
*/
#ifndef SX_LUA_RULES_H
#define SX_LUA_RULES_H

#include <lua.h>

/* Add from_rules, from_list, ruleset and register_type to the module table on the stack top. */
void sx_open_rules(lua_State *L);

#endif
