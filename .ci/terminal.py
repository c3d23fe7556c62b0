#!/usr/bin/env python3
"""Run one shell command in a terminal, as a newcomer types it.

    terminal.py LOG COMMAND

COMMAND runs under `bash -c` (which runs a simple command in its own process, as an
interactive shell does) on a new pseudo-terminal (Python's standard `pty` module, so
nothing needs installing first; 80 by 24, with a TERM), in that terminal's foreground
process group: cargo and the server see a tty, as a newcomer's do. Everything the terminal shows is appended to
LOG as it appears. Bytes read from standard input are typed into the terminal, so writing
`\\x03` types Ctrl-C, and the terminal sends SIGINT to what runs in it. The exit status is
the command's (128 + N when signal N ended it).
"""

import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios


def main() -> int:
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    log_path, command = sys.argv[1], sys.argv[2]
    pid, master = pty.fork()
    if pid == 0:
        # A command started in the background (`&`) by a non-interactive shell inherits
        # SIGINT and SIGQUIT ignored; a terminal's command gets them as usual.
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGQUIT, signal.SIG_DFL)
        # A terminal as a newcomer's: 80 columns by 24 rows (cargo draws its progress
        # bar to that width) and a TERM naming it.
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        os.environ.setdefault("TERM", "xterm-256color")
        os.execvp("bash", ["bash", "-c", command])
    watched = [master, sys.stdin.fileno()]
    with open(log_path, "ab", buffering=0) as log:
        while True:
            ready, _, _ = select.select(watched, [], [])
            if master in ready:
                try:
                    shown = os.read(master, 65536)
                except OSError:  # EIO: the command ended and the terminal closed
                    shown = b""
                if not shown:
                    break
                log.write(shown)
            if sys.stdin.fileno() in ready:
                typed = os.read(sys.stdin.fileno(), 1024)
                if typed:
                    os.write(master, typed)
                else:  # nothing more will be typed; keep showing the output
                    watched.remove(sys.stdin.fileno())
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


if __name__ == "__main__":
    sys.exit(main())
