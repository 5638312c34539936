-- Installing with LuaRocks: the rockspec names what sx needs, the licence it claims is
-- in the tree, and `luarocks make` installs working modules and leaves the source tree
-- as it found it (the CMake build runs in a temporary directory: no build.luarocks/).
local proc = require "support.proc"

local SOURCE = assert(os.getenv("SX_SOURCE_DIR"), "run through ctest")
local ROCKSPEC = SOURCE .. "/sxlua-scm-1.rockspec"
local q = proc.shell_quote

local function rockspec()
  local env = {}
  assert(loadfile(ROCKSPEC, "t", env))()
  return env
end

describe("the rockspec", function()
  it("depends on what the modules require: Lua 5.4, LPeg, lua-cjson", function()
    local deps = table.concat(rockspec().dependencies, "\n")
    assert.matches("^lua >= 5%.4, < 5%.5\n", deps)
    assert.matches("\nlpeg >= 1%.0\n", deps)
    assert.matches("\nlua%-cjson >= 2%.1$", deps)
  end)

  it("claims MIT, and the tree has that licence", function()
    assert.equal("MIT", rockspec().description.license)
    local licence = assert(proc.read(SOURCE .. "/LICENSE"))
    assert.matches("^MIT License\n\nCopyright %(c%) 2026 the sxlua developers\n", licence)
    assert.matches("THE SOFTWARE IS PROVIDED \"AS IS\"", licence, 1, true)
  end)

  it("installs with luarocks make and leaves the source tree as it was #lua54", function()
    if proc.run("command -v luarocks") ~= 0 then return pending("luarocks is not installed") end
    local work = proc.tmpname()
    local src, tree = work .. "/src", work .. "/tree"
    -- a copy of the sources (no build directories), so the spec never writes in the checkout
    assert.equal(0, (proc.run(("mkdir -p %s && cd %s && tar -cf - --exclude='./build*' --exclude=./.git . | tar -xf - -C %s")
                             :format(q(src), q(SOURCE), q(src)))))
    local function listing()
      return select(2, proc.run(("cd %s && find . | sort"):format(q(src))))
    end
    local before = listing()
    local code, out, err = proc.run(("cd %s && luarocks --lua-version 5.4 make --tree %s --deps-mode=none")
                                    :format(q(src), q(tree)))
    local after = listing()
    local _, works, werr = proc.run(("cd / && eval \"$(luarocks --lua-version 5.4 path --tree %s)\" && " ..
      "lua5.4 -e 'local s = require \"sx.seccomp\"; io.write(package.searchpath(\"sx.seccomp\", package.path), \" \", " ..
      "(s.builder():allow(\"socket\", \"arg0 == AF_UNIX\"):build{ arch = \"x86_64\" }:eval(\"socket\", { 1 })))'"):format(q(tree)))
    proc.run("rm -rf " .. q(work))
    assert.equal(0, code, out .. err)
    assert.equal(before, after)                          -- no build.luarocks/, nothing else
    assert.equal(tree .. "/share/lua/5.4/sx/seccomp.lua allow", works, werr)
  end)
end)
