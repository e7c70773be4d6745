package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	rspec "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"kataconformance/tap"
)

type mountInfo struct {
	mountPoint string
	options    []string // per-mount options (ro, nosuid, ...)
	optional   []string // shared:N, master:N, ...
	fsType     string
	super      []string
}

func readMountInfo() ([]mountInfo, error) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	var out []mountInfo
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		sep := -1
		for i, f := range fields {
			if f == "-" {
				sep = i
				break
			}
		}
		if sep < 6 || len(fields) < sep+3 {
			continue
		}
		out = append(out, mountInfo{
			mountPoint: unescapeMount(fields[4]),
			options:    strings.Split(fields[5], ","),
			optional:   fields[6:sep],
			fsType:     fields[sep+1],
			super:      strings.Split(fields[sep+3], ","),
		})
	}
	return out, nil
}

func unescapeMount(s string) string {
	return strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`).Replace(s)
}

// lastMount is the mount that is visible at path (the last one mounted there).
func lastMount(mounts []mountInfo, path string) *mountInfo {
	var found *mountInfo
	for i := range mounts {
		if mounts[i].mountPoint == path {
			found = &mounts[i]
		}
	}
	return found
}

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func isReadonly(path string) (bool, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return false, err
	}
	return st.Flags&unix.ST_RDONLY != 0, nil
}

func checkRootReadonly(t *tap.Writer, spec *rspec.Spec) {
	if spec.Root == nil {
		return
	}
	ro, err := isReadonly("/")
	t.Okf(err == nil && ro == spec.Root.Readonly, describe("root.readonly is %v", spec.Root.Readonly),
		"the root is mounted read-only: %v (%v)", ro, err)
	if spec.Root.Readonly {
		err := unix.Access("/", unix.W_OK)
		t.Okf(errors.Is(err, unix.EROFS), "root.readonly: the root refuses writes",
			"access(/, W_OK) gives %v", err)
	}
}

// Mount options that show on the mount itself (the rest go to the file system).
var perMountOptions = map[string]bool{"ro": true, "nosuid": true, "nodev": true, "noexec": true}

func checkMounts(t *tap.Writer, spec *rspec.Spec) {
	mounts, err := readMountInfo()
	if err != nil {
		t.Ok(false, "/proc/self/mountinfo is readable", err.Error())
		return
	}
	for _, m := range spec.Mounts {
		mi := lastMount(mounts, m.Destination)
		t.Okf(mi != nil, describe("mounts: %s is mounted", m.Destination), "not in /proc/self/mountinfo")
		if mi == nil {
			continue
		}
		bind := m.Type == "bind" || has(m.Options, "bind") || has(m.Options, "rbind")
		if !bind && m.Type != "" {
			want := m.Type
			// devpts, mqueue... keep their names; a cgroup mount may show as cgroup2.
			ok := mi.fsType == want || (want == "cgroup" && mi.fsType == "cgroup2")
			t.Okf(ok, describe("mounts: %s has type %s", m.Destination, want), "type is %s", mi.fsType)
		}
		for _, o := range m.Options {
			if !perMountOptions[o] {
				continue
			}
			t.Okf(has(mi.options, o), describe("mounts: %s has option %s", m.Destination, o),
				"options are %v", mi.options)
		}
	}
}

type devFile struct {
	path         string
	major, minor uint32
}

// The devices every Linux container has (runtime-spec config-linux.md, default devices).
var defaultDevices = []devFile{
	{"/dev/null", 1, 3}, {"/dev/zero", 1, 5}, {"/dev/full", 1, 7},
	{"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0},
}

func checkDefaultDevices(t *tap.Writer, spec *rspec.Spec) {
	for _, d := range defaultDevices {
		var st unix.Stat_t
		err := unix.Stat(d.path, &st)
		ok := err == nil && st.Mode&unix.S_IFMT == unix.S_IFCHR &&
			unix.Major(st.Rdev) == d.major && unix.Minor(st.Rdev) == d.minor
		t.Okf(ok, describe("default device %s is char %d:%d", d.path, d.major, d.minor),
			"mode %o rdev %d:%d (%v)", st.Mode, unix.Major(st.Rdev), unix.Minor(st.Rdev), err)
	}
	// /dev/ptmx, and the links to /proc/self/fd.
	_, err := os.Stat("/dev/ptmx")
	t.Okf(err == nil, "default device /dev/ptmx exists", "%v", err)
	links := map[string]string{"/dev/fd": "/proc/self/fd", "/dev/stdin": "/proc/self/fd/0",
		"/dev/stdout": "/proc/self/fd/1", "/dev/stderr": "/proc/self/fd/2"}
	for _, name := range []string{"/dev/fd", "/dev/stdin", "/dev/stdout", "/dev/stderr"} {
		target, err := os.Readlink(name)
		t.Okf(err == nil && target == links[name], describe("default link %s -> %s", name, links[name]),
			"readlink gives %q (%v)", target, err)
	}
}

func checkLinuxDevices(t *tap.Writer, spec *rspec.Spec) {
	if spec.Linux == nil {
		return
	}
	for _, d := range spec.Linux.Devices {
		var st unix.Stat_t
		err := unix.Stat(d.Path, &st)
		wantType := map[string]uint32{"c": unix.S_IFCHR, "u": unix.S_IFCHR, "b": unix.S_IFBLK,
			"p": unix.S_IFIFO}[d.Type]
		t.Okf(err == nil && st.Mode&unix.S_IFMT == wantType,
			describe("linux.devices %s has type %s", d.Path, d.Type), "mode %o (%v)", st.Mode, err)
		if err != nil {
			continue
		}
		if d.Type != "p" {
			t.Okf(int64(unix.Major(st.Rdev)) == d.Major && int64(unix.Minor(st.Rdev)) == d.Minor,
				describe("linux.devices %s is %d:%d", d.Path, d.Major, d.Minor), "rdev is %d:%d",
				unix.Major(st.Rdev), unix.Minor(st.Rdev))
		}
		if d.FileMode != nil {
			t.Okf(st.Mode&0o7777 == uint32(*d.FileMode)&0o7777,
				describe("linux.devices %s has mode %04o", d.Path, *d.FileMode), "mode is %04o", st.Mode&0o7777)
		}
		if d.UID != nil {
			t.Okf(st.Uid == *d.UID, describe("linux.devices %s has uid %d", d.Path, *d.UID), "uid is %d", st.Uid)
		}
		if d.GID != nil {
			t.Okf(st.Gid == *d.GID, describe("linux.devices %s has gid %d", d.Path, *d.GID), "gid is %d", st.Gid)
		}
	}
}

func checkMaskedPaths(t *tap.Writer, spec *rspec.Spec) {
	if spec.Linux == nil {
		return
	}
	for _, p := range spec.Linux.MaskedPaths {
		desc := describe("linux.maskedPaths %s is masked", p)
		fi, err := os.Stat(p)
		if err != nil {
			// A path that does not exist (a kernel without it) needs no mask.
			t.Ok(errors.Is(err, os.ErrNotExist), desc, err.Error())
			continue
		}
		if fi.IsDir() {
			entries, err := os.ReadDir(p)
			t.Okf(err == nil && len(entries) == 0, desc, "directory with %d entries (%v)", len(entries), err)
			continue
		}
		data, err := os.ReadFile(p)
		masked := len(data) == 0 || errors.Is(err, os.ErrPermission)
		t.Okf(masked, desc, "file: read %d bytes (%v)", len(data), err)
	}
}

func checkReadonlyPaths(t *tap.Writer, spec *rspec.Spec) {
	if spec.Linux == nil {
		return
	}
	for _, p := range spec.Linux.ReadonlyPaths {
		desc := describe("linux.readonlyPaths %s is read-only", p)
		if _, err := os.Stat(p); err != nil {
			t.Ok(errors.Is(err, os.ErrNotExist), desc, err.Error())
			continue
		}
		ro, err := isReadonly(p)
		t.Okf(err == nil && ro, desc, "read-only: %v (%v)", ro, err)
	}
}

func checkSysctl(t *tap.Writer, spec *rspec.Spec) {
	if spec.Linux == nil {
		return
	}
	for key, want := range spec.Linux.Sysctl {
		path := filepath.Join("/proc/sys", strings.ReplaceAll(key, ".", "/"))
		data, err := os.ReadFile(path)
		got := strings.TrimSpace(string(data))
		t.Okf(err == nil && got == want, describe("linux.sysctl %s is %s", key, want), "%s is %q (%v)", path, got, err)
	}
}

func checkNamespaces(t *tap.Writer, spec *rspec.Spec) {
	if spec.Linux == nil {
		return
	}
	for _, ns := range spec.Linux.Namespaces {
		if ns.Type == rspec.PIDNamespace && ns.Path == "" {
			t.Okf(os.Getpid() == 1, "linux.namespaces pid: the process is pid 1", "pid is %d", os.Getpid())
		}
	}
}

// Syscalls whose refusal can be observed safely, with how to make one.
var seccompProbes = map[string]func() error{
	"mkdir":     func() error { return unix.Mkdir("/tmp/seccomp-probe", 0o755) },
	"mkdirat":   func() error { return unix.Mkdirat(unix.AT_FDCWD, "/tmp/seccomp-probe", 0o755) },
	"symlink":   func() error { return unix.Symlink("target", "/tmp/seccomp-link") },
	"symlinkat": func() error { return unix.Symlinkat("target", unix.AT_FDCWD, "/tmp/seccomp-link") },
}

func checkSeccomp(t *tap.Writer, spec *rspec.Spec) {
	if spec.Linux == nil || spec.Linux.Seccomp == nil {
		return
	}
	for _, rule := range spec.Linux.Seccomp.Syscalls {
		if rule.Action != rspec.ActErrno {
			continue
		}
		probes := seccompProbes
		if len(rule.Args) > 0 {
			// Only personality(0xffffffff) (a query), when a condition matches it.
			probes = map[string]func() error{}
			for _, a := range rule.Args {
				if a.Index == 0 && a.Value == 0xffffffff && a.Op == rspec.OpEqualTo {
					probes["personality"] = func() error {
						_, _, e := unix.Syscall(unix.SYS_PERSONALITY, 0xffffffff, 0, 0)
						if e != 0 {
							return e
						}
						return nil
					}
				}
			}
		}
		want := unix.EPERM
		if rule.ErrnoRet != nil {
			want = unix.Errno(*rule.ErrnoRet)
		}
		for _, name := range rule.Names {
			probe, ok := probes[name]
			if !ok {
				continue
			}
			err := probe()
			t.Okf(errors.Is(err, want), describe("linux.seccomp %s fails with %s", name, unix.ErrnoName(want)),
				"%s gives %v", name, err)
		}
	}
	_ = os.Remove("/tmp/seccomp-probe")
	_ = os.Remove("/tmp/seccomp-link")
}

func checkRootfsPropagation(t *tap.Writer, spec *rspec.Spec) {
	if spec.Linux == nil || spec.Linux.RootfsPropagation == "" {
		return
	}
	mounts, err := readMountInfo()
	root := lastMount(mounts, "/")
	if err != nil || root == nil {
		t.Ok(false, "the root is in /proc/self/mountinfo", fmt.Sprint(err))
		return
	}
	shared, slave := false, false
	for _, o := range root.optional {
		shared = shared || strings.HasPrefix(o, "shared:")
		slave = slave || strings.HasPrefix(o, "master:")
	}
	var ok bool
	switch strings.TrimPrefix(spec.Linux.RootfsPropagation, "r") {
	case "shared":
		ok = shared
	case "slave":
		ok = slave && !shared
	case "private", "unbindable":
		ok = !shared && !slave
	}
	t.Okf(ok, describe("linux.rootfsPropagation %s", spec.Linux.RootfsPropagation),
		"the root's propagation fields are %v", root.optional)
}
