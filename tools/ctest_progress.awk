# tools/ctest_progress.awk: what tools/test shows of `ctest -V` while it runs.
# ctest -V writes test N's output as "N: line" and closes it with
# "i/n Test #N: name ....   Passed". This keeps each test's lines, prints the closing line
# as it comes, and under a test that did not pass, why: from its first busted
# "Failure ->" / "Error ->" block on, else (a crash, a timeout) its last lines.
# spec/tools_spec.lua feeds it a real failing busted run.
match($0, /^[0-9]+: /) {
  n = substr($0, 1, RLENGTH - 2)
  text = substr($0, RLENGTH + 1)
  if (text ~ /^Test timeout computed/) out[n] = ""      # the end of the ctest preamble
  else out[n] = out[n] text "\n"
  next
}
/^ *[0-9]+\/[0-9]+ Test +#[0-9]+:/ {
  print
  n = $0; sub(/^[^#]*#/, "", n); sub(/:.*/, "", n)
  if ($0 !~ / Passed /) {
    count = split(out[n], line, "\n")
    while (count > 0 && line[count] == "") count--
    from = 0
    for (i = 1; i <= count; i++) if (line[i] ~ /^(Failure|Error) -> /) { from = i; break }
    if (from == 0) from = count > 30 ? count - 30 : 1
    shown = 0
    for (i = from; i <= count && shown < 80; i++) { print "    " line[i]; shown++ }
    if (i <= count) print "    ... (the rest is in the log)"
  }
  delete out[n]
  fflush()
  next
}
/^[0-9]+% tests passed|\((Failed|Timeout|Not Run)\)$/ { print; fflush() }
