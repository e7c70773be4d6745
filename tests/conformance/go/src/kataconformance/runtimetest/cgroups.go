package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	rspec "github.com/opencontainers/runtime-spec/specs-go"

	"kataconformance/tap"
)

// cgroupFile finds a controller's file for this process: under /sys/fs/cgroup/CONTROLLER
// (v1) or /sys/fs/cgroup (v2), at the process's path or, inside a cgroup namespace or a
// mount of the container's own cgroup, at the mount's root.
func cgroupFile(controller, v1name, v2name string) (string, string) {
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", ""
	}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		var candidates []string
		if parts[1] == "" && parts[0] == "0" {
			candidates = []string{filepath.Join("/sys/fs/cgroup", parts[2], v2name),
				filepath.Join("/sys/fs/cgroup", v2name)}
		} else {
			for _, c := range strings.Split(parts[1], ",") {
				if c == controller {
					dir := filepath.Join("/sys/fs/cgroup", parts[1])
					candidates = []string{filepath.Join(dir, parts[2], v1name), filepath.Join(dir, v1name)}
				}
			}
		}
		for _, f := range candidates {
			if value, err := os.ReadFile(f); err == nil {
				return f, strings.TrimSpace(string(value))
			}
		}
	}
	return "", ""
}

func checkCgroups(t *tap.Writer, spec *rspec.Spec) {
	if spec.Linux == nil || spec.Linux.Resources == nil {
		return
	}
	r := spec.Linux.Resources
	if r.Memory != nil && r.Memory.Limit != nil {
		f, v := cgroupFile("memory", "memory.limit_in_bytes", "memory.max")
		t.Okf(v == strconv.FormatInt(*r.Memory.Limit, 10), describe("linux.resources.memory.limit is %d", *r.Memory.Limit),
			"%s is %q", f, v)
	}
	if r.Pids != nil {
		f, v := cgroupFile("pids", "pids.max", "pids.max")
		t.Okf(v == strconv.FormatInt(r.Pids.Limit, 10), describe("linux.resources.pids.limit is %d", r.Pids.Limit),
			"%s is %q", f, v)
	}
	if r.CPU != nil && r.CPU.Shares != nil {
		f, v := cgroupFile("cpu", "cpu.shares", "cpu.weight")
		want := strconv.FormatUint(*r.CPU.Shares, 10)
		if strings.HasSuffix(f, "cpu.weight") {
			// The v2 conversion of runc and crun: weight = 1 + (shares-2)*9999/262142.
			want = strconv.FormatUint(1+((*r.CPU.Shares-2)*9999)/262142, 10)
		}
		t.Okf(v == want, describe("linux.resources.cpu.shares is %d", *r.CPU.Shares), "%s is %q, want %s", f, v, want)
	}
}
