-- support.shrink: make a failing rule set smaller while it still fails the same way, for
-- the reproducers that support.agree and differential_spec print.
--
--   rules(case, still, with_rules) -> the smallest case found
--
-- still(c) says whether c still fails; with_rules(case, rules) is case with other rules.
-- Greedy: drop whole rules, then single conditions of rules that have more than one,
-- until nothing more can go. Rules may be positional ({action, syscall, args}) or named.

local M = {}

local function without(list, i)
  local out = {}
  for j, x in ipairs(list) do if j ~= i then out[#out + 1] = x end end
  return out
end

function M.rules(case, still, with_rules)
  local changed = true
  while changed do
    changed = false
    for i = #case.rules, 1, -1 do
      local c = with_rules(case, without(case.rules, i))
      if still(c) then case, changed = c, true end
    end
    for i = 1, #case.rules do
      local rule = case.rules[i]
      local args = rule.args or rule[3]
      for k = #(args or {}), 1, -1 do
        if #args > 1 then
          local rules = without(case.rules, 0)
          rules[i] = { action = rule.action or rule[1], syscall = rule.syscall or rule[2],
                       args = without(args, k) }
          local c = with_rules(case, rules)
          if still(c) then case, changed, rule, args = c, true, rules[i], rules[i].args end
        end
      end
    end
  end
  return case
end

return M
