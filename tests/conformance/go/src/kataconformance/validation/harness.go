package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	rspec "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-tools/generate"

	"kataconformance/tap"
)

// How long one runtime command may take (a VM boots in 1-3 s under TCG, more under load),
// and how long a container's process may run before the case gives up on it.
const (
	commandTimeout = 90 * time.Second
	processTimeout = 90 * time.Second
)

type harness struct {
	t         *tap.Writer
	name      string
	runtime   string
	rootfs    string
	checker   string
	dir       string
	mu        sync.Mutex
	ids       []string
	cleanedUp bool
	serial    int
}

func newHarness(name string, t *tap.Writer) (*harness, error) {
	h := &harness{t: t, name: name, runtime: os.Getenv("RUNTIME"),
		rootfs: os.Getenv("CONFORMANCE_ROOTFS"), checker: os.Getenv("CONFORMANCE_RUNTIMETEST")}
	for k, v := range map[string]string{"RUNTIME": h.runtime, "CONFORMANCE_ROOTFS": h.rootfs,
		"CONFORMANCE_RUNTIMETEST": h.checker} {
		if v == "" {
			return nil, fmt.Errorf("%s is not set", k)
		}
	}
	base := os.Getenv("CONFORMANCE_TMP")
	if base == "" {
		base = os.TempDir()
	}
	dir, err := os.MkdirTemp(base, name+"-")
	if err != nil {
		return nil, err
	}
	// Searchable by every uid: a container in a user namespace reaches its rootfs as
	// a mapped uid (the bundles hold nothing secret).
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	h.dir = dir
	return h, nil
}

// newID names a container of this case; the cleanup deletes it.
func (h *harness) newID(what string) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.serial++
	id := fmt.Sprintf("conf%d-%s-%s%d", os.Getpid(), strings.ReplaceAll(h.name, "_", "-"), what, h.serial)
	h.ids = append(h.ids, id)
	return id
}

// cleanup kills and force-deletes every container of the case and removes its files.
func (h *harness) cleanup() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cleanedUp {
		return
	}
	h.cleanedUp = true
	for _, id := range h.ids {
		if _, err := h.runQuiet("state", id); err != nil {
			continue
		}
		h.runQuiet("kill", id, "KILL")
		if out, err := h.runQuiet("delete", "--force", id); err != nil {
			h.t.Comment("cleanup: delete --force %s: %v: %s", id, err, out)
		}
	}
	// CONFORMANCE_KEEP=1 keeps the bundles and outputs for a look after a failure.
	if os.Getenv("CONFORMANCE_KEEP") == "" {
		os.RemoveAll(h.dir)
	} else {
		h.t.Comment("kept %s", h.dir)
	}
}

// run runs the runtime with args and returns its combined output. The output goes
// through a file: a pipe could be held open by something the runtime left running.
func (h *harness) run(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, h.runtime, args...)
	f, err := os.CreateTemp("", "conformance-out-")
	if err != nil {
		return "", err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	cmd.Stdout = f
	cmd.Stderr = f
	err = cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("timed out after %v", commandTimeout)
	}
	out, _ := os.ReadFile(f.Name())
	return strings.TrimSpace(string(out)), err
}

func (h *harness) runQuiet(args ...string) (string, error) { return h.run(args...) }

// create runs `create`; the container's stdout and stderr (which the runtime hands on to
// the container) go to files in the bundle, never to a pipe that would stay open.
func (h *harness) create(b *bundle, id string, extra ...string) (string, error) {
	args := append([]string{"create", "--bundle", b.dir}, extra...)
	return h.detached(b, id, append(args, id)...)
}

// detached runs the runtime with stdio in files named by name in the bundle (a detached
// process keeps them) and returns its stderr.
func (h *harness) detached(b *bundle, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, h.runtime, args...)
	stdout, err := os.Create(filepath.Join(b.dir, name+".stdout"))
	if err != nil {
		return "", err
	}
	defer stdout.Close()
	stderr, err := os.Create(filepath.Join(b.dir, name+".stderr"))
	if err != nil {
		return "", err
	}
	defer stderr.Close()
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	err = cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("timed out after %v", commandTimeout)
	}
	msg, _ := os.ReadFile(stderr.Name())
	return strings.TrimSpace(string(msg)), err
}

// output is what the container wrote to its stdout so far.
func (h *harness) output(b *bundle, id string) string {
	data, _ := os.ReadFile(filepath.Join(b.dir, id+".stdout"))
	return string(data)
}

func (h *harness) state(id string) (*rspec.State, error) {
	out, err := h.run("state", id)
	if err != nil {
		return nil, fmt.Errorf("%v: %s", err, out)
	}
	var st rspec.State
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		return nil, fmt.Errorf("state is not JSON: %v: %q", err, out)
	}
	return &st, nil
}

func (h *harness) status(id string) string {
	st, err := h.state(id)
	if err != nil {
		return "(no state: " + err.Error() + ")"
	}
	return string(st.Status)
}

// waitStatus polls `state` until the container has the status, for at most timeout.
func (h *harness) waitStatus(id, want string, timeout time.Duration) (string, bool) {
	deadline := time.Now().Add(timeout)
	got := ""
	for {
		got = h.status(id)
		if got == want {
			return got, true
		}
		if time.Now().After(deadline) {
			return got, false
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitFile polls for a file, for at most timeout.
func waitFile(path string, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		if _, err := os.Stat(path); err == nil {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type bundle struct {
	dir    string
	rootfs string
	g      *generate.Generator
}

// newBundle makes a bundle with a private copy of the rootfs, the checker as
// /runtimetest and the runtime-tools generator's default Linux configuration.
func (h *harness) newBundle(what string) (*bundle, error) {
	dir, err := os.MkdirTemp(h.dir, what+"-")
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	b := &bundle{dir: dir, rootfs: filepath.Join(dir, "rootfs")}
	if out, err := exec.Command("cp", "-a", h.rootfs, b.rootfs).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("copy of the rootfs: %v: %s", err, out)
	}
	if out, err := exec.Command("cp", h.checker, filepath.Join(b.rootfs, "runtimetest")).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("copy of runtimetest: %v: %s", err, out)
	}
	g, err := generate.New("linux")
	if err != nil {
		return nil, err
	}
	g.SetRootPath("rootfs")
	g.SetProcessArgs([]string{"/runtimetest"})
	// Each case tests one thing: the generator's seccomp profile is tested by "default"
	// and "linux_seccomp" alone.
	g.Config.Linux.Seccomp = nil
	b.g = &g
	return b, nil
}

// save writes config.json into the bundle and, for runtimetest, into the rootfs.
func (b *bundle) save() error {
	data, err := json.MarshalIndent(b.g.Config, "", "\t")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(b.dir, "config.json"), data, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(b.rootfs, "config.json"), data, 0o644)
}

// mustBundle makes and saves a bundle with edit applied, or fails the case.
func (h *harness) mustBundle(what string, edit func(g *generate.Generator)) *bundle {
	b, err := h.newBundle(what)
	if err != nil {
		panic(fmt.Sprintf("bundle: %v", err))
	}
	if edit != nil {
		edit(b.g)
	}
	if err := b.save(); err != nil {
		panic(fmt.Sprintf("bundle: %v", err))
	}
	return b
}

// createStarted creates and starts a container of bundle b, with assertions named by
// what; it returns false when either step failed.
func (h *harness) createStarted(b *bundle, id, what string) bool {
	out, err := h.create(b, id)
	h.t.Okf(err == nil, what+": create succeeds", "%v: %s", err, out)
	if err != nil {
		return false
	}
	out, err = h.run("start", id)
	h.t.Okf(err == nil, what+": start succeeds", "%v: %s", err, out)
	return err == nil
}

// insideValidate runs runtimetest as the container's process under the configuration
// that edit makes, and reports its assertions as the case's own.
func (h *harness) insideValidate(what string, edit func(g *generate.Generator)) {
	h.runBundle(what, h.mustBundle(what, edit))
}

// runBundle runs bundle b, whose process is runtimetest, and reports its assertions.
func (h *harness) runBundle(what string, b *bundle) {
	id := h.newID(what)
	if !h.createStarted(b, id, what) {
		return
	}
	got, ok := h.waitStatus(id, "stopped", processTimeout)
	h.t.Okf(ok, what+": the process ends", "status is %s after %v", got, processTimeout)
	results := tap.Parse(strings.NewReader(h.output(b, id)))
	h.t.Okf(len(results) > 0, what+": runtimetest reports", "no TAP output; stderr: %s",
		readHead(filepath.Join(b.dir, id+".stderr")))
	for _, r := range results {
		h.t.Ok(r.Ok, what+": "+r.Description, strings.Join(r.Diag, "\n"))
	}
	out, err := h.run("delete", id)
	h.t.Okf(err == nil, what+": delete succeeds", "%v: %s", err, out)
}

func readHead(path string) string {
	data, _ := os.ReadFile(path)
	if len(data) > 600 {
		data = data[:600]
	}
	return string(data)
}
