-- LuaRocks build of the sx modules from a checkout: `luarocks make` in the source tree.
-- On Debian, where lua-lpeg and lua-cjson come from apt, LuaRocks does not see them:
-- `luarocks make --deps-mode=none`. The CMake build runs in a temporary directory that is
-- removed afterwards, so the tree is left as it was (no build.luarocks/).
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
dependencies = {
  "lua >= 5.4, < 5.5",
  "lpeg >= 1.0",          -- conditions as text (sx.conditions)
  "lua-cjson >= 2.1",     -- container profiles (sx.oci)
}
build = {
  type = "command",
  build_command = [[
    dir=`mktemp -d` || exit 1
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$(PREFIX)" \
          -DSX_INSTALL_LMOD="$(LUADIR)" -DSX_INSTALL_CMOD="$(LIBDIR)" &&
      cmake --build "$dir" && cmake --install "$dir"
    status=$?
    rm -rf "$dir"
    exit $status
  ]],
}
