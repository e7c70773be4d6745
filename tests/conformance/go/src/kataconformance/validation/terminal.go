package main

// process.terminal with runc's --console-socket: the runtime sends the pty master to a
// unix socket (SCM_RIGHTS), as podman/conmon and containerd's shim receive it.

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/opencontainers/runtime-tools/generate"
	"golang.org/x/sys/unix"
)

func init() {
	register("ext_terminal", "process.terminal through --console-socket: a pty, its size, output",
		caseTerminal)
}

// receivePty accepts one connection on the socket and returns the first fd it carries.
func receivePty(l *net.UnixListener, timeout time.Duration) (*os.File, error) {
	l.SetDeadline(time.Now().Add(timeout))
	conn, err := l.AcceptUnix()
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(timeout))
	buf := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4*4))
	_, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		return nil, err
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) == 0 {
		return nil, io.ErrUnexpectedEOF
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) == 0 {
		return nil, io.ErrUnexpectedEOF
	}
	for _, extra := range fds[1:] {
		unix.Close(extra)
	}
	return os.NewFile(uintptr(fds[0]), "pty-master"), nil
}

// readAll reads the pty until the other side closes (EIO) or the time is up.
func readAll(f *os.File, timeout time.Duration) string {
	done := make(chan string, 1)
	go func() {
		var sb strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			sb.Write(buf[:n])
			if err != nil {
				break
			}
		}
		done <- sb.String()
	}()
	select {
	case s := <-done:
		return s
	case <-time.After(timeout):
		f.Close()
		return <-done
	}
}

func caseTerminal(h *harness) {
	t := h.t
	b := h.mustBundle("terminal", func(g *generate.Generator) {
		g.SetProcessTerminal(true)
		g.SetProcessConsoleSize(100, 40)
		g.SetProcessArgs([]string{"sh", "-c",
			"if test -t 0 && test -t 1 && test -t 2; then echo tty=yes; else echo tty=no; fi; " +
				"echo size=$(stty size); echo tty-done; sleep 1"})
	})
	sock := filepath.Join(h.dir, "console.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		panic(err)
	}
	defer l.Close()
	got := make(chan *os.File, 1)
	gotErr := make(chan error, 1)
	go func() {
		f, err := receivePty(l, commandTimeout)
		gotErr <- err
		got <- f
	}()
	id := h.newID("c")
	out, err := h.create(b, id, "--console-socket", sock)
	t.Okf(err == nil, "create --console-socket succeeds", "%v: %s", err, out)
	if err != nil {
		return
	}
	rerr := <-gotErr
	pty := <-got
	t.Okf(rerr == nil, "create sends the pty master to the console socket", "%v", rerr)
	if rerr != nil {
		return
	}
	defer pty.Close()
	out, err = h.run("start", id)
	t.Okf(err == nil, "start succeeds", "%v: %s", err, out)
	text := readAll(pty, processTimeout)
	t.Okf(strings.Contains(text, "tty-done"), "the process's output comes through the pty", "read %q", text)
	t.Okf(strings.Contains(text, "tty=yes"), "stdin, stdout and stderr are a terminal", "read %q", text)
	t.Okf(strings.Contains(text, "size=40 100"), "process.consoleSize sets the terminal size", "read %q", text)
	t.Okf(strings.Contains(text, "\r\n"), "the terminal translates newlines (onlcr)", "read %q", text)
	st, ok := h.waitStatus(id, "stopped", processTimeout)
	t.Okf(ok, "the container stops when its process ends", "status is %s", st)
}
