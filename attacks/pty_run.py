#!/usr/bin/env python3
# pty_run.py SCRIPT: run `bash --norc -i` on a fresh pseudo-terminal (as an interactive user
# would sit at it), type the lines of SCRIPT into it, then `exit`; print what the terminal showed.
import os, pty, sys, time, select
script = open(sys.argv[1]).read().splitlines()
pid, fd = pty.fork()
if pid == 0:
    os.execvp("bash", ["bash", "--norc", "--noprofile", "-i"])
out = b""
def drain(t):
    global out
    end = time.time() + t
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try: out += os.read(fd, 4096)
            except OSError: return
drain(0.5)
for line in script:
    os.write(fd, (line + "\n").encode())
    drain(3)
os.write(fd, b"exit\n")
drain(1)
os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
