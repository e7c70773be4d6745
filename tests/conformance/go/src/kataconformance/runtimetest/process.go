package main

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	rspec "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/syndtr/gocapability/capability"
	"golang.org/x/sys/unix"

	"kataconformance/tap"
)

func checkProcess(t *tap.Writer, spec *rspec.Spec) {
	p := spec.Process
	if p == nil {
		return
	}
	cwd, err := os.Getwd()
	t.Okf(err == nil && cwd == p.Cwd, describe("process.cwd is %s", p.Cwd), "cwd is %q (%v)", cwd, err)

	env := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	for _, kv := range p.Env {
		k, v, _ := strings.Cut(kv, "=")
		got, ok := env[k]
		t.Okf(ok && got == v, describe("process.env has %s", k), "%s is %q (set: %v), want %q", k, got, ok, v)
	}
	// The harness passes the args after the program name through to this program.
	if len(p.Args) > 0 {
		t.Okf(strings.Join(os.Args[1:], " ") == strings.Join(p.Args[1:], " "),
			"process.args reach the program", "args %q, want %q", os.Args, p.Args)
	}
	if p.User.Umask != nil {
		old := unix.Umask(0)
		unix.Umask(old)
		t.Okf(uint32(old) == *p.User.Umask, describe("process.user.umask is %04o", *p.User.Umask),
			"umask is %04o", old)
	}
}

func checkUser(t *tap.Writer, spec *rspec.Spec) {
	if spec.Process == nil {
		return
	}
	u := spec.Process.User
	t.Okf(uint32(os.Getuid()) == u.UID, describe("process.user.uid is %d", u.UID), "uid is %d", os.Getuid())
	t.Okf(uint32(os.Getgid()) == u.GID, describe("process.user.gid is %d", u.GID), "gid is %d", os.Getgid())
	groups, err := os.Getgroups()
	have := map[uint32]bool{}
	for _, g := range groups {
		have[uint32(g)] = true
	}
	for _, g := range u.AdditionalGids {
		t.Okf(err == nil && have[g], describe("process.user.additionalGids has %d", g),
			"groups are %v (%v)", groups, err)
	}
}

func checkHostname(t *tap.Writer, spec *rspec.Spec) {
	if spec.Hostname == "" {
		return
	}
	name, err := os.Hostname()
	t.Okf(err == nil && name == spec.Hostname, describe("hostname is %s", spec.Hostname),
		"hostname is %q (%v)", name, err)
}

var rlimitNumbers = map[string]int{
	"RLIMIT_CPU": unix.RLIMIT_CPU, "RLIMIT_FSIZE": unix.RLIMIT_FSIZE,
	"RLIMIT_DATA": unix.RLIMIT_DATA, "RLIMIT_STACK": unix.RLIMIT_STACK,
	"RLIMIT_CORE": unix.RLIMIT_CORE, "RLIMIT_RSS": unix.RLIMIT_RSS,
	"RLIMIT_NPROC": unix.RLIMIT_NPROC, "RLIMIT_NOFILE": unix.RLIMIT_NOFILE,
	"RLIMIT_MEMLOCK": unix.RLIMIT_MEMLOCK, "RLIMIT_AS": unix.RLIMIT_AS,
	"RLIMIT_LOCKS": unix.RLIMIT_LOCKS, "RLIMIT_SIGPENDING": unix.RLIMIT_SIGPENDING,
	"RLIMIT_MSGQUEUE": unix.RLIMIT_MSGQUEUE, "RLIMIT_NICE": unix.RLIMIT_NICE,
	"RLIMIT_RTPRIO": unix.RLIMIT_RTPRIO, "RLIMIT_RTTIME": unix.RLIMIT_RTTIME,
}

func checkRlimits(t *tap.Writer, spec *rspec.Spec) {
	if spec.Process == nil {
		return
	}
	for _, r := range spec.Process.Rlimits {
		num, known := rlimitNumbers[r.Type]
		if !known {
			t.Ok(false, describe("%s is known", r.Type), "not a Linux rlimit")
			continue
		}
		var lim unix.Rlimit
		err := unix.Getrlimit(num, &lim)
		// Go raises its own RLIMIT_NOFILE soft limit to the hard limit at start-up: for
		// that one the soft limit cannot be observed from a Go program.
		softOk := lim.Cur == r.Soft || (num == unix.RLIMIT_NOFILE && lim.Cur == lim.Max)
		t.Okf(err == nil && lim.Max == r.Hard, describe("process.rlimits %s hard is %d", r.Type, r.Hard),
			"hard is %d (%v)", lim.Max, err)
		t.Okf(err == nil && softOk, describe("process.rlimits %s soft is %d", r.Type, r.Soft),
			"soft is %d (%v)", lim.Cur, err)
	}
}

// capMask turns capability names into the bit mask /proc/self/status shows, leaving out
// those the running kernel does not know.
func capMask(names []string, last int) (uint64, []string) {
	byName := map[string]capability.Cap{}
	for _, c := range capability.List() {
		byName["CAP_"+strings.ToUpper(c.String())] = c
	}
	var mask uint64
	var unknown []string
	for _, n := range names {
		c, ok := byName[n]
		if !ok {
			unknown = append(unknown, n)
			continue
		}
		if int(c) <= last {
			mask |= 1 << uint(c)
		}
	}
	return mask, unknown
}

func capNames(mask uint64) string {
	var names []string
	for _, c := range capability.List() {
		if mask&(1<<uint(c)) != 0 {
			names = append(names, "CAP_"+strings.ToUpper(c.String()))
		}
	}
	sort.Strings(names)
	return strings.Join(names, " ")
}

func checkCapabilities(t *tap.Writer, spec *rspec.Spec) {
	if spec.Process == nil || spec.Process.Capabilities == nil {
		return
	}
	last := 40
	if data, err := os.ReadFile("/proc/sys/kernel/cap_last_cap"); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil {
			last = n
		}
	}
	status, err := procStatus()
	if err != nil {
		t.Ok(false, "/proc/self/status is readable", err.Error())
		return
	}
	c := spec.Process.Capabilities
	sets := []struct {
		name  string
		field string
		caps  []string
	}{
		{"bounding", "CapBnd", c.Bounding},
		{"effective", "CapEff", c.Effective},
		{"inheritable", "CapInh", c.Inheritable},
		{"permitted", "CapPrm", c.Permitted},
		{"ambient", "CapAmb", c.Ambient},
	}
	bnd, _ := capMask(c.Bounding, last)
	inh, _ := capMask(c.Inheritable, last)
	for _, s := range sets {
		want, unknown := capMask(s.caps, last)
		if os.Geteuid() == 0 && (s.name == "permitted" || s.name == "effective") {
			// execve by root gives every capability of the bounding and inheritable sets,
			// permitted and effective (capabilities(7), "Capabilities and execution of
			// programs by root"), whatever the runtime set before it.
			want = bnd | inh
		}
		if s.name == "ambient" {
			// An ambient capability must also be permitted and inheritable (capabilities(7));
			// runtimes drop the others, as runc does.
			prm, _ := capMask(c.Permitted, last)
			want &= inh & prm
		}
		got, perr := strconv.ParseUint(status[s.field], 16, 64)
		t.Okf(perr == nil && got == want && len(unknown) == 0,
			describe("process.capabilities.%s is applied", s.name),
			"%s is %016x [%s], want %016x [%s]; unknown names %v", s.field, got, capNames(got),
			want, capNames(want), unknown)
	}
}

func checkNoNewPrivileges(t *tap.Writer, spec *rspec.Spec) {
	if spec.Process == nil {
		return
	}
	status, err := procStatus()
	want := "0"
	if spec.Process.NoNewPrivileges {
		want = "1"
	}
	t.Okf(err == nil && status["NoNewPrivs"] == want,
		describe("process.noNewPrivileges is %v", spec.Process.NoNewPrivileges),
		"NoNewPrivs is %q (%v)", status["NoNewPrivs"], err)
}

func checkOOMScoreAdj(t *tap.Writer, spec *rspec.Spec) {
	if spec.Process == nil || spec.Process.OOMScoreAdj == nil {
		return
	}
	data, err := os.ReadFile("/proc/self/oom_score_adj")
	got := strings.TrimSpace(string(data))
	t.Okf(err == nil && got == fmt.Sprint(*spec.Process.OOMScoreAdj),
		describe("process.oomScoreAdj is %d", *spec.Process.OOMScoreAdj), "oom_score_adj is %q (%v)", got, err)
}
