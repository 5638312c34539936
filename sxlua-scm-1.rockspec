-- LuaRocks build of the sx modules from a checkout: `luarocks make` in the source tree.
rockspec_format = "3.0"
package = "sxlua"
version = "scm-1"
source = { url = "git+file://." }
description = {
  summary = "Seccomp filters for Lua: a BPF compiler, emulator and sandbox runner",
  detailed = [[
    sx.seccomp builds Linux seccomp filters from allow lists, deny lists, builders and
    rule tables with its own classic-BPF compiler (no libseccomp), and can explain,
    disassemble and emulate them.
  ]],
  license = "MIT",
}
supported_platforms = { "linux" }
dependencies = { "lua >= 5.4, < 5.5" }
build = {
  type = "cmake",
  variables = {
    CMAKE_BUILD_TYPE = "Release",
    CMAKE_INSTALL_PREFIX = "$(PREFIX)",
    SX_INSTALL_LMOD = "$(LUADIR)",
    SX_INSTALL_CMOD = "$(LIBDIR)",
  },
}
