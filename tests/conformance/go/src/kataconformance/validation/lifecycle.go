package main

// The lifecycle cases: the operations of the runtime-spec's runtime.md (state, create,
// start, kill, delete) and what each must do in each status, plus --pid-file.

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/opencontainers/runtime-tools/generate"
)

func init() {
	register("state", "state of each status, its fields, of an unknown id", caseState)
	register("create", "create: does not run the program, refuses a used id or a bad bundle", caseCreate)
	register("start", "start: runs the program once; refused when not created", caseStart)
	register("kill", "kill: signals a created or running container; refused when stopped", caseKill)
	register("delete", "delete: only a stopped container; the id is free again", caseDelete)
	register("pidfile", "create --pid-file holds the pid of state", casePidFile)
	register("lifecycle_exit", "a process that ends by itself leaves the container stopped", caseExit)
}

// A process that runs until it is killed, and marks in /conformance that it started.
func sleeper(g *generate.Generator) {
	g.SetProcessArgs([]string{"sh", "-c", "touch /started; exec sleep 1000"})
}

// A process that ends on SIGTERM (as pid 1 of its namespace, it must catch it).
func termable(g *generate.Generator) {
	g.SetProcessArgs([]string{"sh", "-c", "trap 'exit 0' TERM; touch /started; while :; do sleep 0.2; done"})
}

func started(b *bundle) bool { return waitFile(filepath.Join(b.rootfs, "started"), processTimeout) }

func caseState(h *harness) {
	t := h.t
	out, err := h.run("state", "conformance-no-such-container")
	t.Okf(err != nil, "state of an unknown id fails", "exit 0: %s", out)

	b := h.mustBundle("state", func(g *generate.Generator) {
		sleeper(g)
		g.AddAnnotation("org.example.conformance", "state")
	})
	id := h.newID("c")
	out, err = h.create(b, id)
	t.Okf(err == nil, "create succeeds", "%v: %s", err, out)
	if err != nil {
		return
	}
	st, err := h.state(id)
	t.Okf(err == nil, "state of a created container succeeds", "%v", err)
	if err != nil {
		return
	}
	t.Okf(st.Version != "", "state has ociVersion", "ociVersion is empty")
	t.Okf(st.ID == id, "state has the id", "id is %q", st.ID)
	t.Okf(st.Status == "created", "state status is created after create", "status is %q", st.Status)
	t.Okf(st.Pid > 0, "state pid of a created container is positive", "pid is %d", st.Pid)
	t.Okf(st.Pid > 0 && processAlive(st.Pid), "state pid of a created container is a live host process",
		"pid %d: %s", st.Pid, procState(st.Pid))
	t.Okf(st.Bundle == b.dir, "state bundle is the absolute bundle path", "bundle is %q, want %q", st.Bundle, b.dir)
	t.Okf(st.Annotations["org.example.conformance"] == "state", "state has the annotations",
		"annotations are %v", st.Annotations)

	out, err = h.run("start", id)
	t.Okf(err == nil, "start succeeds", "%v: %s", err, out)
	t.Okf(started(b), "the program runs after start", "no /started")
	st, err = h.state(id)
	t.Okf(err == nil && st.Status == "running", "state status is running after start", "%v %v", st, err)
	out, err = h.run("kill", id, "KILL")
	t.Okf(err == nil, "kill KILL succeeds", "%v: %s", err, out)
	got, ok := h.waitStatus(id, "stopped", processTimeout)
	t.Okf(ok, "state status is stopped after the process ends", "status is %s", got)
	out, err = h.run("delete", id)
	t.Okf(err == nil, "delete succeeds", "%v: %s", err, out)
	out, err = h.run("state", id)
	t.Okf(err != nil, "state of a deleted container fails", "exit 0: %s", out)
}

func caseCreate(h *harness) {
	t := h.t
	b := h.mustBundle("create", sleeper)
	id := h.newID("c")
	out, err := h.create(b, id)
	t.Okf(err == nil, "create succeeds", "%v: %s", err, out)
	if err != nil {
		return
	}
	time.Sleep(time.Second)
	_, serr := os.Stat(filepath.Join(b.rootfs, "started"))
	t.Okf(os.IsNotExist(serr), "create does not run the user program", "/started exists")

	b2 := h.mustBundle("create-again", sleeper)
	out, err = h.create(b2, id)
	t.Okf(err != nil, "create with an id in use fails", "exit 0: %s", out)
	t.Okf(h.status(id) == "created", "create with an id in use leaves the container as it was",
		"status is %s", h.status(id))

	empty := filepath.Join(h.dir, "no-config")
	os.MkdirAll(filepath.Join(empty, "rootfs"), 0o755)
	bad := &bundle{dir: empty, rootfs: filepath.Join(empty, "rootfs")}
	id2 := h.newID("noconfig")
	out, err = h.create(bad, id2)
	t.Okf(err != nil, "create of a bundle without config.json fails", "exit 0: %s", out)
	_, serr = h.state(id2)
	t.Okf(serr != nil, "a failed create leaves no container", "state succeeds")

	b3 := h.mustBundle("create-badroot", func(g *generate.Generator) { g.SetRootPath("no-such-rootfs") })
	id3 := h.newID("noroot")
	out, err = h.create(b3, id3)
	t.Okf(err != nil, "create with a missing root.path fails", "exit 0: %s", out)
	_, serr = h.state(id3)
	t.Okf(serr != nil, "create with a missing root.path leaves no container", "state succeeds")

	b4 := h.mustBundle("create-badversion", func(g *generate.Generator) { g.SetOCIVersion("0.0.0-bogus") })
	id4 := h.newID("badversion")
	out, err = h.create(b4, id4)
	// runtime-spec: a runtime MUST generate an error for a version it does not support.
	t.Okf(err != nil, "create of an unsupported ociVersion fails", "exit 0: %s", out)
}

func caseStart(h *harness) {
	t := h.t
	out, err := h.run("start", "conformance-no-such-container")
	t.Okf(err != nil, "start of an unknown id fails", "exit 0: %s", out)

	b := h.mustBundle("start", func(g *generate.Generator) {
		g.SetProcessArgs([]string{"sh", "-c", "echo run >> /runs; touch /started; exec sleep 1000"})
	})
	id := h.newID("c")
	out, err = h.create(b, id)
	t.Okf(err == nil, "create succeeds", "%v: %s", err, out)
	if err != nil {
		return
	}
	out, err = h.run("start", id)
	t.Okf(err == nil, "start of a created container succeeds", "%v: %s", err, out)
	t.Okf(started(b), "start runs the user program", "no /started")
	out, err = h.run("start", id)
	t.Okf(err != nil, "start of a running container fails", "exit 0: %s", out)
	time.Sleep(500 * time.Millisecond)
	runs, _ := os.ReadFile(filepath.Join(b.rootfs, "runs"))
	t.Okf(string(runs) == "run\n", "a second start does not run the program again", "/runs is %q", runs)
	t.Okf(h.status(id) == "running", "a second start leaves the container running", "status is %s", h.status(id))
	h.run("kill", id, "KILL")
	got, ok := h.waitStatus(id, "stopped", processTimeout)
	t.Okf(ok, "kill KILL stops the container", "status is %s", got)
	out, err = h.run("start", id)
	t.Okf(err != nil, "start of a stopped container fails", "exit 0: %s", out)
	t.Okf(h.status(id) == "stopped", "start of a stopped container leaves it stopped", "status is %s", h.status(id))
	out, err = h.run("delete", id)
	t.Okf(err == nil, "delete succeeds", "%v: %s", err, out)
}

func caseKill(h *harness) {
	t := h.t
	out, err := h.run("kill", "conformance-no-such-container", "KILL")
	t.Okf(err != nil, "kill of an unknown id fails", "exit 0: %s", out)

	// A running container ends on TERM when its program handles it.
	b := h.mustBundle("kill", termable)
	id := h.newID("term")
	if h.createStarted(b, id, "running") {
		t.Okf(started(b), "running: the program runs", "no /started")
		out, err = h.run("kill", id, "TERM")
		t.Okf(err == nil, "kill TERM of a running container succeeds", "%v: %s", err, out)
		got, ok := h.waitStatus(id, "stopped", processTimeout)
		t.Okf(ok, "kill TERM: the container stops", "status is %s", got)
		out, err = h.run("kill", id, "KILL")
		t.Okf(err != nil, "kill of a stopped container fails", "exit 0: %s", out)
		out, err = h.run("delete", id)
		t.Okf(err == nil, "delete succeeds", "%v: %s", err, out)
	}

	// Signals by number, and the default signal, on a created container.
	b2 := h.mustBundle("kill-created", sleeper)
	id2 := h.newID("created")
	out, err = h.create(b2, id2)
	t.Okf(err == nil, "created: create succeeds", "%v: %s", err, out)
	if err == nil {
		out, err = h.run("kill", id2, "9")
		t.Okf(err == nil, "kill 9 of a created container succeeds", "%v: %s", err, out)
		got, ok := h.waitStatus(id2, "stopped", processTimeout)
		t.Okf(ok, "kill 9 of a created container stops it", "status is %s", got)
		_, serr := os.Stat(filepath.Join(b2.rootfs, "started"))
		t.Okf(os.IsNotExist(serr), "a killed created container never ran its program", "/started exists")
		out, err = h.run("delete", id2)
		t.Okf(err == nil, "created: delete succeeds", "%v: %s", err, out)
	}

	// A signal the program handles reaches it (and only it does something).
	b4 := h.mustBundle("kill-usr1", func(g *generate.Generator) {
		g.SetProcessArgs([]string{"sh", "-c",
			"trap 'touch /got-usr1' USR1; touch /started; while :; do sleep 0.2; done"})
	})
	id4 := h.newID("usr1")
	if h.createStarted(b4, id4, "USR1") {
		started(b4)
		out, err = h.run("kill", id4, "USR1")
		t.Okf(err == nil, "kill USR1 succeeds", "%v: %s", err, out)
		t.Okf(waitFile(filepath.Join(b4.rootfs, "got-usr1"), 20*time.Second), "kill USR1: the program gets SIGUSR1",
			"no /got-usr1")
		t.Okf(h.status(id4) == "running", "kill USR1: the container keeps running", "status is %s", h.status(id4))
	}

	// SIG-prefixed names are accepted as well.
	b3 := h.mustBundle("kill-sigkill", sleeper)
	id3 := h.newID("sigkill")
	if h.createStarted(b3, id3, "SIGKILL") {
		out, err = h.run("kill", id3, "SIGKILL")
		t.Okf(err == nil, "kill SIGKILL succeeds", "%v: %s", err, out)
		got, ok := h.waitStatus(id3, "stopped", processTimeout)
		t.Okf(ok, "kill SIGKILL stops the container", "status is %s", got)
	}
}

func caseDelete(h *harness) {
	t := h.t
	out, err := h.run("delete", "conformance-no-such-container")
	t.Okf(err != nil, "delete of an unknown id fails", "exit 0: %s", out)

	b := h.mustBundle("delete", sleeper)
	id := h.newID("c")
	out, err = h.create(b, id)
	t.Okf(err == nil, "create succeeds", "%v: %s", err, out)
	if err != nil {
		return
	}
	// runtime-spec: deleting a container that is not stopped MUST fail and have no effect.
	out, err = h.run("delete", id)
	t.Okf(err != nil, "delete of a created container fails", "exit 0: %s", out)
	if err != nil {
		t.Okf(h.status(id) == "created", "delete of a created container leaves it created",
			"status is %s", h.status(id))
	} else {
		// runc deletes a created container: recreate it to go on.
		h.create(b, id)
	}
	out, err = h.run("start", id)
	t.Okf(err == nil, "start succeeds", "%v: %s", err, out)
	started(b)
	out, err = h.run("delete", id)
	t.Okf(err != nil, "delete of a running container fails", "exit 0: %s", out)
	t.Okf(h.status(id) == "running", "delete of a running container leaves it running", "status is %s", h.status(id))

	h.run("kill", id, "KILL")
	got, ok := h.waitStatus(id, "stopped", processTimeout)
	t.Okf(ok, "kill KILL stops the container", "status is %s", got)
	out, err = h.run("delete", id)
	t.Okf(err == nil, "delete of a stopped container succeeds", "%v: %s", err, out)
	_, serr := h.state(id)
	t.Okf(serr != nil, "state after delete fails", "state succeeds")
	out, err = h.run("delete", id)
	t.Okf(err != nil, "a second delete fails", "exit 0: %s", out)
	listed, _ := h.run("list", "-q")
	t.Okf(!containsLine(listed, id), "list after delete does not show the container", "list: %s", listed)

	// The id can be used again.
	os.Remove(filepath.Join(b.rootfs, "started"))
	out, err = h.create(b, id)
	t.Okf(err == nil, "create with the id of a deleted container succeeds", "%v: %s", err, out)

	// delete --force (runc's extension, which engines use) removes a running container.
	b2 := h.mustBundle("delete-force", sleeper)
	id2 := h.newID("force")
	if h.createStarted(b2, id2, "force") {
		out, err = h.run("delete", "--force", id2)
		t.Okf(err == nil, "delete --force of a running container succeeds", "%v: %s", err, out)
		_, serr = h.state(id2)
		t.Okf(serr != nil, "delete --force: state fails after it", "state succeeds")
	}
}

func casePidFile(h *harness) {
	t := h.t
	b := h.mustBundle("pidfile", sleeper)
	id := h.newID("c")
	pidFile := filepath.Join(h.dir, "container.pid")
	out, err := h.create(b, id, "--pid-file", pidFile)
	t.Okf(err == nil, "create --pid-file succeeds", "%v: %s", err, out)
	if err != nil {
		return
	}
	data, err := os.ReadFile(pidFile)
	t.Okf(err == nil, "the pid file exists after create", "%v", err)
	st, serr := h.state(id)
	pid, perr := strconv.Atoi(strings.TrimSpace(string(data)))
	t.Okf(serr == nil && perr == nil && pid == st.Pid, "the pid file holds the pid of state",
		"pid file %q, state %v (%v)", data, st, serr)
	t.Okf(perr == nil && processAlive(pid), "the pid file's pid is a live process", "pid %d: %s", pid, procState(pid))
}

func caseExit(h *harness) {
	t := h.t
	b := h.mustBundle("exit", func(g *generate.Generator) { g.SetProcessArgs([]string{"sh", "-c", "exit 3"}) })
	id := h.newID("c")
	if !h.createStarted(b, id, "exit") {
		return
	}
	got, ok := h.waitStatus(id, "stopped", processTimeout)
	t.Okf(ok, "a process that exits leaves the container stopped", "status is %s", got)
	out, err := h.run("delete", id)
	t.Okf(err == nil, "delete of an exited container succeeds", "%v: %s", err, out)
}

func containsLine(text, line string) bool {
	for _, l := range strings.Split(text, "\n") {
		if strings.TrimSpace(l) == line {
			return true
		}
	}
	return false
}

// procState is the state letter of a host process ("R", "S", "Z"...), or why not.
func procState(pid int) string {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return err.Error()
	}
	s := string(data)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2 : i+3]
	}
	return "?"
}

// processAlive: a zombie (which PID 1 reaps slowly here) is not alive.
func processAlive(pid int) bool {
	s := procState(pid)
	return len(s) == 1 && s != "Z" && s != "X"
}
