package main

// Cases beyond the runtime-spec: the runc command-line extensions that container engines
// (podman/conmon, containerd's runc shim) rely on, named ext_*; and the host-side cgroup
// check of runtime-tools' linux_cgroups_* cases.

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/opencontainers/runtime-tools/generate"
)

func init() {
	register("ext_exec", "exec: output, exit status, --env, --cwd; refused when stopped", caseExec)
	register("ext_pause", "pause and resume of a running container: statuses and refusals", casePause)
	register("ext_run", "run: foreground exit status; run -d", caseRun)
	register("ext_list", "list -q and list --format json", caseList)
	register("linux_cgroups_host", "linux.resources on the host's cgroup at cgroupsPath (runtime-tools' check)",
		caseCgroupsHost)
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

func caseExec(h *harness) {
	t := h.t
	b := h.mustBundle("exec", sleeper)
	id := h.newID("c")
	if !h.createStarted(b, id, "exec") {
		return
	}
	started(b)
	out, err := h.run("exec", id, "sh", "-c", "echo exec-output; exit 7")
	t.Okf(exitCode(err) == 7, "exec: the runtime exits with the process's status", "%v: %s", err, out)
	t.Okf(strings.Contains(out, "exec-output"), "exec: the process's output reaches the caller", "output %q", out)
	out, err = h.run("exec", "--env", "CONFORMANCE_X=exec-env", "--cwd", "/tmp", id, "sh", "-c",
		`echo "$CONFORMANCE_X $(pwd)"`)
	t.Okf(err == nil && strings.Contains(out, "exec-env /tmp"), "exec --env --cwd apply", "%v: %q", err, out)
	out, err = h.run("exec", "--user", "1000:1000", id, "id", "-u")
	t.Okf(err == nil && strings.TrimSpace(out) == "1000", "exec --user applies", "%v: %q", err, out)
	out, err = h.run("exec", id, "sh", "-c", "kill -9 $$")
	t.Okf(exitCode(err) == 137, "exec: a process killed by SIGKILL gives 137", "%v: %s", err, out)
	out, err = h.run("exec", id, "/no/such/program")
	t.Okf(err != nil, "exec of a missing program fails", "exit 0: %s", out)

	// As conmon runs it: a process.json, detached, with a pid file.
	proc := *b.g.Config.Process
	proc.Args = []string{"sh", "-c", "touch /exec-detached; exec sleep 1000"}
	proc.Env = append(proc.Env, "CONFORMANCE_P=1")
	procFile := filepath.Join(h.dir, "process.json")
	data, _ := json.Marshal(&proc)
	os.WriteFile(procFile, data, 0o644)
	pidFile := filepath.Join(h.dir, "exec.pid")
	out, err = h.detached(b, id+"-exec", "exec", "--process", procFile, "--detach", "--pid-file", pidFile, id)
	t.Okf(err == nil, "exec --process --detach --pid-file succeeds", "%v: %s", err, out)
	t.Okf(waitFile(filepath.Join(b.rootfs, "exec-detached"), processTimeout),
		"exec --process: the process of process.json runs", "no /exec-detached")
	pidText, perr := os.ReadFile(pidFile)
	pid, _ := strconv.Atoi(strings.TrimSpace(string(pidText)))
	t.Okf(perr == nil && pid > 0 && processAlive(pid), "exec --pid-file holds a live pid",
		"%q (%v): %s", pidText, perr, procState(pid))

	h.run("kill", id, "KILL")
	got, ok := h.waitStatus(id, "stopped", processTimeout)
	t.Okf(ok, "kill KILL stops the container", "status is %s", got)
	out, err = h.run("exec", id, "true")
	t.Okf(err != nil, "exec in a stopped container fails", "exit 0: %s", out)
}

func casePause(h *harness) {
	t := h.t
	b := h.mustBundle("pause", sleeper)
	id := h.newID("c")
	out, err := h.create(b, id)
	t.Okf(err == nil, "create succeeds", "%v: %s", err, out)
	if err != nil {
		return
	}
	out, err = h.run("start", id)
	t.Okf(err == nil, "start succeeds", "%v: %s", err, out)
	started(b)
	before, _ := h.state(id)
	out, err = h.run("pause", id)
	t.Okf(err == nil, "pause of a running container succeeds", "%v: %s", err, out)
	st, serr := h.state(id)
	t.Okf(serr == nil && st.Status == "paused", "state status is paused after pause", "%v %v", st, serr)
	t.Okf(serr == nil && before != nil && st.Pid == before.Pid, "pause keeps the pid", "%v", st)
	out, err = h.run("resume", id)
	t.Okf(err == nil, "resume of a paused container succeeds", "%v: %s", err, out)
	t.Okf(h.status(id) == "running", "state status is running after resume", "status is %s", h.status(id))
	out, err = h.run("resume", id)
	t.Okf(err != nil, "resume of a running container fails", "exit 0: %s", out)
	h.run("kill", id, "KILL")
	got, ok := h.waitStatus(id, "stopped", processTimeout)
	t.Okf(ok, "kill KILL stops the container", "status is %s", got)
	out, err = h.run("pause", id)
	t.Okf(err != nil, "pause of a stopped container fails", "exit 0: %s", out)
}

func caseRun(h *harness) {
	t := h.t
	b := h.mustBundle("run", func(g *generate.Generator) {
		g.SetProcessArgs([]string{"sh", "-c", "echo run-output; exit 5"})
	})
	id := h.newID("fg")
	out, err := h.run("run", "--bundle", b.dir, id)
	t.Okf(exitCode(err) == 5, "run: the runtime exits with the process's status", "%v: %s", err, out)
	t.Okf(strings.Contains(out, "run-output"), "run: the process's output reaches the caller", "output %q", out)
	// runc deletes what `run` made when its process ends; whatever is left goes.
	h.run("delete", "--force", id)

	b2 := h.mustBundle("run-detached", sleeper)
	id2 := h.newID("detached")
	out, err = h.runDetached(b2, id2)
	t.Okf(err == nil, "run -d succeeds", "%v: %s", err, out)
	t.Okf(started(b2), "run -d: the program runs", "no /started")
	t.Okf(h.status(id2) == "running", "run -d: the container is running", "status is %s", h.status(id2))
}

// runDetached runs `run -d` with file-backed stdio (the container keeps it).
func (h *harness) runDetached(b *bundle, id string) (string, error) {
	return h.detached(b, id, "run", "-d", "--bundle", b.dir, id)
}

func caseList(h *harness) {
	t := h.t
	b := h.mustBundle("list", sleeper)
	id := h.newID("c")
	out, err := h.create(b, id)
	t.Okf(err == nil, "create succeeds", "%v: %s", err, out)
	if err != nil {
		return
	}
	out, err = h.run("list", "-q")
	t.Okf(err == nil && containsLine(out, id), "list -q shows the container", "%v: %s", err, out)
	out, err = h.run("list", "--format", "json")
	var entries []struct {
		ID     string `json:"id"`
		Status string `json:"status"`
		Pid    int    `json:"pid"`
		Bundle string `json:"bundle"`
	}
	jerr := json.Unmarshal([]byte(out), &entries)
	found := false
	for _, e := range entries {
		if e.ID == id && e.Status == "created" && e.Pid > 0 && e.Bundle == b.dir {
			found = true
		}
	}
	t.Okf(err == nil && jerr == nil && found, "list --format json has id, status, pid and bundle",
		"%v %v: %s", err, jerr, out)
}

// The host side of cgroups, as runtime-tools' linux_cgroups_* cases check it: the limits
// are in the host's cgroup hierarchy at linux.cgroupsPath (cgroup v1 controllers here).
func caseCgroupsHost(h *harness) {
	t := h.t
	path := "/kata-conformance-" + strings.TrimPrefix(filepath.Base(h.dir), "linux_cgroups_host-")
	b := h.mustBundle("cgroups-host", func(g *generate.Generator) {
		sleeper(g)
		g.SetLinuxCgroupsPath(path)
		g.SetLinuxResourcesMemoryLimit(96 << 20)
		g.SetLinuxResourcesPidsLimit(77)
	})
	id := h.newID("c")
	if !h.createStarted(b, id, "cgroups") {
		return
	}
	started(b)
	files := []struct{ file, want, desc string }{
		{"/sys/fs/cgroup/memory" + path + "/memory.limit_in_bytes", "100663296",
			"the host cgroup at cgroupsPath has the memory limit"},
		{"/sys/fs/cgroup/pids" + path + "/pids.max", "77", "the host cgroup at cgroupsPath has the pids limit"},
	}
	for _, f := range files {
		data, err := os.ReadFile(f.file)
		t.Okf(err == nil && strings.TrimSpace(string(data)) == f.want, f.desc, "%s: %q (%v)", f.file, data, err)
	}
	st, err := h.state(id)
	if err == nil {
		data, _ := os.ReadFile("/sys/fs/cgroup/memory" + path + "/cgroup.procs")
		t.Okf(containsLine(string(data), strconv.Itoa(st.Pid)), "the state's pid is in the host cgroup",
			"pid %d, cgroup.procs %q", st.Pid, data)
	}
	h.run("kill", id, "KILL")
	h.waitStatus(id, "stopped", processTimeout)
	out, err := h.run("delete", id)
	t.Okf(err == nil, "delete succeeds", "%v: %s", err, out)
	_, serr := os.Stat("/sys/fs/cgroup/memory" + path)
	t.Okf(os.IsNotExist(serr), "delete removes the host cgroup", "it remains (%v)", serr)
	// Whatever the runtime left, the case leaves nothing.
	for _, c := range []string{"memory", "pids"} {
		os.Remove("/sys/fs/cgroup/" + c + path)
	}
}
