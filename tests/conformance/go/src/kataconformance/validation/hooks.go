package main

// The hooks cases (runtime-spec config.md, "POSIX-platform Hooks"): prestart, poststart
// and poststop run on the host, in order, with the container's state on their stdin.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	rspec "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-tools/generate"
)

func init() {
	register("hooks", "prestart, poststart, poststop: when they run and what they receive", caseHooks)
	register("hooks_create", "createRuntime (host), createContainer and startContainer (container namespace)",
		caseCreateHooks)
	register("hooks_poststart_fail", "a failing poststart hook is only a warning", casePoststartFail)
	register("hooks_prestart_fail", "a failing prestart hook stops the container", casePrestartFail)
}

// recordingHook saves its stdin to DIR/NAME.json and appends NAME to DIR/order.
func recordingHook(dir, name string) rspec.Hook {
	script := "cat > " + filepath.Join(dir, name+".json") + "; echo " + name + " >> " + filepath.Join(dir, "order")
	return rspec.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", script}}
}

func readOrder(path string) []string {
	data, _ := os.ReadFile(path)
	return strings.Fields(string(data))
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

func caseHooks(h *harness) {
	t := h.t
	var b *bundle
	b = h.mustBundle("hooks", func(g *generate.Generator) {
		// The program appends to the same file, through the rootfs.
		g.SetProcessArgs([]string{"sh", "-c", "echo program >> /order; touch /started; exec sleep 1000"})
	})
	dir := b.rootfs
	b.g.AddPreStartHook(recordingHook(dir, "prestart"))
	b.g.AddPostStartHook(recordingHook(dir, "poststart"))
	b.g.AddPostStopHook(recordingHook(dir, "poststop"))
	if err := b.save(); err != nil {
		panic(err)
	}
	id := h.newID("c")
	if !h.createStarted(b, id, "hooks") {
		return
	}
	order := readOrder(filepath.Join(dir, "order"))
	t.Okf(indexOf(order, "poststart") >= 0, "poststart has run when start returns", "order: %v", order)
	t.Okf(started(b), "the program runs", "no /started")
	order = readOrder(filepath.Join(dir, "order"))
	pre, prog, post := indexOf(order, "prestart"), indexOf(order, "program"), indexOf(order, "poststart")
	t.Okf(pre >= 0, "prestart runs", "order: %v", order)
	t.Okf(pre >= 0 && prog >= 0 && pre < prog, "prestart runs before the program", "order: %v", order)
	t.Okf(pre >= 0 && post >= 0 && pre < post, "prestart runs before poststart", "order: %v", order)

	for _, name := range []string{"prestart", "poststart"} {
		var st rspec.State
		data, err := os.ReadFile(filepath.Join(dir, name+".json"))
		if err == nil {
			err = json.Unmarshal(data, &st)
		}
		t.Okf(err == nil && st.ID == id, name+": stdin is the state with the container's id", "%v: %q", err, data)
		t.Okf(err == nil && st.Pid > 0, name+": the state has the pid", "pid %d", st.Pid)
		t.Okf(err == nil && st.Bundle == b.dir, name+": the state has the bundle", "bundle %q", st.Bundle)
	}
	t.Okf(indexOf(order, "poststop") < 0, "poststop has not run while the container runs", "order: %v", order)

	h.run("kill", id, "KILL")
	got, ok := h.waitStatus(id, "stopped", processTimeout)
	t.Okf(ok, "kill KILL stops the container", "status is %s", got)
	out, err := h.run("delete", id)
	t.Okf(err == nil, "delete succeeds", "%v: %s", err, out)
	order = readOrder(filepath.Join(dir, "order"))
	t.Okf(indexOf(order, "poststop") == len(order)-1, "poststop runs on delete, last", "order: %v", order)
	var st rspec.State
	data, err := os.ReadFile(filepath.Join(dir, "poststop.json"))
	if err == nil {
		err = json.Unmarshal(data, &st)
	}
	t.Okf(err == nil && st.ID == id, "poststop: stdin is the state with the container's id", "%v: %q", err, data)
}

func casePrestartFail(h *harness) {
	t := h.t
	b := h.mustBundle("prestart-fail", sleeper)
	b.g.AddPreStartHook(rspec.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", "exit 1"}})
	if err := b.save(); err != nil {
		panic(err)
	}
	id := h.newID("c")
	out, cerr := h.create(b, id)
	var serr error
	if cerr == nil {
		out, serr = h.run("start", id)
	}
	t.Okf(cerr != nil || serr != nil, "a failing prestart hook makes create or start fail", "both succeeded: %s", out)
	_, err := os.Stat(filepath.Join(b.rootfs, "started"))
	t.Okf(os.IsNotExist(err), "a failing prestart hook: the program does not run", "/started exists")
	st, err := h.state(id)
	t.Okf(err != nil || st.Status == "stopped", "a failing prestart hook: the container is stopped or gone",
		"status %v", st)
}

func casePoststartFail(h *harness) {
	t := h.t
	b := h.mustBundle("poststart-fail", sleeper)
	b.g.AddPostStartHook(rspec.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", "exit 1"}})
	b.g.AddPostStopHook(rspec.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", "exit 1"}})
	if err := b.save(); err != nil {
		panic(err)
	}
	id := h.newID("c")
	// runtime-spec: a failing poststart or poststop hook is logged, and the lifecycle goes on.
	if !h.createStarted(b, id, "poststart fails") {
		return
	}
	t.Okf(started(b), "a failing poststart hook: the program runs", "no /started")
	t.Okf(h.status(id) == "running", "a failing poststart hook: the container is running", "status is %s", h.status(id))
	h.run("kill", id, "KILL")
	h.waitStatus(id, "stopped", processTimeout)
	out, err := h.run("delete", id)
	t.Okf(err == nil, "a failing poststop hook: delete succeeds", "%v: %s", err, out)
	_, serr := h.state(id)
	t.Okf(serr != nil, "a failing poststop hook: the container is gone", "state succeeds")
}

// The hooks of runtime-spec 1.0.2's create and start: createRuntime runs in the runtime's
// namespace during create; createContainer during create, in the container's namespaces
// before pivot_root; startContainer during start, before the program, in the container
// (after pivot_root), so a file it writes under /tmp lands in the container's rootfs.
func caseCreateHooks(h *harness) {
	t := h.t
	b := h.mustBundle("hooks-create", func(g *generate.Generator) {
		g.SetProcessArgs([]string{"sh", "-c", "touch /started; exec sleep 1000"})
	})
	mark := "/tmp/conformance-hook-" + strconv.Itoa(os.Getpid())
	hostMark := func(kind string) string { return mark + "-" + kind }
	hook := func(kind string) rspec.Hook {
		return rspec.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", "cat > " + hostMark(kind)}}
	}
	b.g.Config.Hooks = &rspec.Hooks{
		CreateRuntime:   []rspec.Hook{hook("createRuntime")},
		CreateContainer: []rspec.Hook{hook("createContainer")},
		StartContainer:  []rspec.Hook{hook("startContainer")},
	}
	if err := b.save(); err != nil {
		panic(err)
	}
	// Whatever ran where, nothing stays in the host's /tmp.
	defer func() {
		for _, k := range []string{"createRuntime", "createContainer", "startContainer"} {
			os.Remove(hostMark(k))
		}
	}()
	inContainer := func(kind string) bool {
		_, err := os.Stat(filepath.Join(b.rootfs, hostMark(kind)))
		return err == nil
	}
	onHost := func(kind string) bool {
		_, err := os.Stat(hostMark(kind))
		return err == nil
	}
	id := h.newID("c")
	out, err := h.create(b, id)
	t.Okf(err == nil, "create succeeds", "%v: %s", err, out)
	if err != nil {
		return
	}
	t.Okf(onHost("createRuntime"), "createRuntime runs during create, in the runtime's namespace",
		"no %s on the host (in the container: %v)", hostMark("createRuntime"), inContainer("createRuntime"))
	// createContainer runs in the container's mount namespace but before pivot_root, so its
	// paths may still be the host's: either place will do.
	t.Okf(inContainer("createContainer") || onHost("createContainer"), "createContainer runs during create",
		"its file is neither in the container's /tmp nor on the host")
	t.Okf(!inContainer("startContainer") && !onHost("startContainer"), "startContainer does not run during create",
		"it ran")
	out, err = h.run("start", id)
	t.Okf(err == nil, "start succeeds", "%v: %s", err, out)
	t.Okf(started(b), "the program runs", "no /started")
	t.Okf(inContainer("startContainer"), "startContainer runs during start, in the container's namespace",
		"not in the container's /tmp (on the host: %v)", onHost("startContainer"))
	var st rspec.State
	data, rerr := os.ReadFile(hostMark("createRuntime"))
	if rerr == nil {
		rerr = json.Unmarshal(data, &st)
	}
	t.Okf(rerr == nil && st.ID == id, "createRuntime: stdin is the state with the container's id", "%v: %q", rerr, data)
}
