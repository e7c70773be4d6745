#!/usr/bin/python3
"""Runs a command on a pseudo-terminal of its own, as a user at a terminal would, and
follows a script of steps against it (tests/e2e/runtime_terminal.sh).

usage: pty_session.py [--size ROWSxCOLS] [--timeout SECONDS] [--log FILE] STEP... -- CMD...

Steps, in order:
  --expect REGEX     wait until the output since the last match matches REGEX (Python re)
  --send TEXT        type TEXT (backslash escapes: \\r, \\n, \\x03 ...)
  --resize RxC       change the terminal's size (the kernel sends SIGWINCH to its
                     foreground process group, as a terminal emulator does)
  --sleep SECONDS    wait

The command is the session leader of a new session whose controlling terminal is the pty
(stdin, stdout and stderr). When the steps are done the driver waits for the command to
exit and prints to stdout:
  exit N             its exit status (128+N for a death by signal N)
  restored yes|no    whether the terminal's mode after the exit is the mode it had before
                     (echo, canonical input and signal keys on)
A step that times out prints `timeout: REGEX` and the output seen, kills the command's
process group and exits 2. Everything the command wrote goes to --log.
"""
import codecs
import errno
import fcntl
import os
import re
import select
import signal
import struct
import sys
import termios
import time


def set_size(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def parse_size(text):
    rows, cols = text.lower().split("x")
    return int(rows), int(cols)


def parse_args(argv):
    opts = {"size": (24, 80), "timeout": 60.0, "log": None}
    steps = []
    i = 0
    while i < len(argv) and argv[i] != "--":
        name = argv[i]
        if i + 1 >= len(argv):
            sys.exit("pty_session: %s needs a value" % name)
        value = argv[i + 1]
        i += 2
        if name == "--size":
            opts["size"] = parse_size(value)
        elif name == "--timeout":
            opts["timeout"] = float(value)
        elif name == "--log":
            opts["log"] = value
        elif name in ("--expect", "--send", "--resize", "--sleep"):
            steps.append((name[2:], value))
        else:
            sys.exit("pty_session: unknown option %s" % name)
    if i >= len(argv) - 1:
        sys.exit(__doc__)
    return opts, steps, argv[i + 1:]


def spawn(cmd, rows, cols):
    master, slave = os.openpty()
    set_size(slave, rows, cols)
    pid = os.fork()
    if pid == 0:
        os.close(master)
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        for fd in (0, 1, 2):
            os.dup2(slave, fd)
        if slave > 2:
            os.close(slave)
        try:
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    # The driver keeps the slave open: its mode can be read after the command exits, and
    # reading the master never fails with EIO while the command runs.
    return pid, master, slave


class Session:
    def __init__(self, master, log):
        self.master = master
        self.log = log
        self.pending = b""  # output not yet consumed by an --expect
        self.seen = b""  # everything, for error messages

    def read_some(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        ready, _, _ = select.select([self.master], [], [], min(left, 0.2))
        if not ready:
            return True
        try:
            data = os.read(self.master, 65536)
        except OSError as e:
            if e.errno == errno.EIO:
                return True
            raise
        self.pending += data
        self.seen += data
        if self.log:
            self.log.write(data)
            self.log.flush()
        return True

    def expect(self, regex, timeout):
        pattern = re.compile(regex.encode())
        deadline = time.monotonic() + timeout
        while True:
            m = pattern.search(self.pending)
            if m:
                self.pending = self.pending[m.end():]
                return True
            if not self.read_some(deadline):
                return False

    def drain(self, seconds):
        deadline = time.monotonic() + seconds
        while self.read_some(deadline):
            pass


def wait_exit(pid, session, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            session.drain(0.1)
            if os.WIFSIGNALED(status):
                return 128 + os.WTERMSIG(status)
            return os.WEXITSTATUS(status)
        session.drain(0.1)
    return None


def main():
    opts, steps, cmd = parse_args(sys.argv[1:])
    rows, cols = opts["size"]
    log = open(opts["log"], "ab") if opts["log"] else None
    pid, master, slave = spawn(cmd, rows, cols)
    before = termios.tcgetattr(slave)
    session = Session(master, log)
    for kind, value in steps:
        if kind == "expect":
            if not session.expect(value, opts["timeout"]):
                print("timeout: %s" % value)
                print("output: %r" % session.seen[-2000:])
                os.killpg(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                sys.exit(2)
        elif kind == "send":
            os.write(master, codecs.decode(value, "unicode_escape").encode("latin-1"))
        elif kind == "resize":
            r, c = parse_size(value)
            set_size(slave, r, c)
        elif kind == "sleep":
            session.drain(float(value))
    status = wait_exit(pid, session, opts["timeout"])
    if status is None:
        print("timeout: exit")
        print("output: %r" % session.seen[-2000:])
        os.killpg(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        sys.exit(2)
    after = termios.tcgetattr(slave)
    print("exit %d" % status)
    # lflag (echo, canonical, signals) and iflag/oflag as they were
    print("restored %s" % ("yes" if after[:4] == before[:4] else "no"))


if __name__ == "__main__":
    main()
