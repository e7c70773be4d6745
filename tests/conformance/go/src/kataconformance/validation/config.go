package main

// The configuration cases: each runs runtimetest in a container configured one way and
// reports what it found inside (runtime-spec config.md and config-linux.md).

import (
	"os"
	"path/filepath"
	"time"

	rspec "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-tools/generate"
)

func u32(v uint32) *uint32 { return &v }

func init() {
	register("default", "runtime-tools' default Linux configuration", func(h *harness) {
		h.insideValidate("default", func(g *generate.Generator) {
			d, _ := generate.New("linux")
			g.Config.Linux.Seccomp = d.Config.Linux.Seccomp
		})
	})
	register("process", "process.args, cwd, env", func(h *harness) {
		h.insideValidate("process", func(g *generate.Generator) {
			g.SetProcessArgs([]string{"/runtimetest", "-only", "process,user"})
			g.SetProcessCwd("/tmp")
			g.AddProcessEnv("CONFORMANCE_VALUE", "with spaces = and equals")
			g.AddProcessEnv("CONFORMANCE_EMPTY", "")
		})
	})
	register("process_user", "process.user uid, gid, additionalGids", func(h *harness) {
		h.insideValidate("user", func(g *generate.Generator) {
			g.SetProcessUID(1000)
			g.SetProcessGID(1000)
			g.AddProcessAdditionalGid(5)
			g.AddProcessAdditionalGid(100)
		})
	})
	register("process_umask", "process.user.umask", func(h *harness) {
		h.insideValidate("umask", func(g *generate.Generator) {
			g.SetProcessArgs([]string{"/runtimetest", "-only", "process"})
			g.SetProcessUmask(0o027)
		})
	})
	register("process_rlimits", "process.rlimits", func(h *harness) {
		h.insideValidate("rlimits", func(g *generate.Generator) {
			g.SetProcessArgs([]string{"/runtimetest", "-only", "rlimits"})
			g.AddProcessRlimits("RLIMIT_NOFILE", 1024, 512)
			g.AddProcessRlimits("RLIMIT_CORE", 8192, 4096)
			g.AddProcessRlimits("RLIMIT_NPROC", 2048, 1024)
			g.AddProcessRlimits("RLIMIT_MSGQUEUE", 819200, 409600)
		})
	})
	register("process_capabilities", "process.capabilities: a reduced set", func(h *harness) {
		h.insideValidate("caps", func(g *generate.Generator) {
			g.SetProcessArgs([]string{"/runtimetest", "-only", "capabilities"})
			g.Config.Process.Capabilities = &rspec.LinuxCapabilities{
				Bounding:    []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW", "CAP_SYS_ADMIN"},
				Effective:   []string{"CAP_CHOWN", "CAP_KILL"},
				Permitted:   []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"},
				Inheritable: []string{"CAP_KILL"},
				Ambient:     []string{"CAP_KILL"},
			}
		})
	})
	register("process_capabilities_none", "process.capabilities: all sets empty", func(h *harness) {
		h.insideValidate("nocaps", func(g *generate.Generator) {
			g.SetProcessArgs([]string{"/runtimetest", "-only", "capabilities"})
			g.Config.Process.Capabilities = &rspec.LinuxCapabilities{}
		})
	})
	register("process_nonewprivileges", "process.noNewPrivileges", func(h *harness) {
		h.insideValidate("nnp", func(g *generate.Generator) {
			g.SetProcessArgs([]string{"/runtimetest", "-only", "nonewprivileges"})
			g.SetProcessNoNewPrivileges(true)
		})
	})
	register("process_oom_score_adj", "process.oomScoreAdj", func(h *harness) {
		h.insideValidate("oom", func(g *generate.Generator) {
			g.SetProcessArgs([]string{"/runtimetest", "-only", "oomscoreadj"})
			g.SetProcessOOMScoreAdj(500)
		})
	})
	register("hostname", "hostname in a new uts namespace", func(h *harness) {
		h.insideValidate("hostname", func(g *generate.Generator) {
			g.SetProcessArgs([]string{"/runtimetest", "-only", "hostname"})
			g.SetHostname("conformance-host")
		})
	})
	register("root_readonly", "root.readonly true", func(h *harness) {
		h.insideValidate("rootro", func(g *generate.Generator) {
			g.SetProcessArgs([]string{"/runtimetest", "-only", "root"})
			g.SetRootReadonly(true)
		})
	})
	register("mounts", "mounts: tmpfs with options, read-only bind of a host directory", caseMounts)
	register("linux_devices", "linux.devices: char device and fifo with mode and owner", func(h *harness) {
		h.insideValidate("devices", func(g *generate.Generator) {
			g.SetProcessArgs([]string{"/runtimetest", "-only", "linuxdevices,devices"})
			mode := os.FileMode(0o640)
			g.AddDevice(rspec.LinuxDevice{Path: "/dev/conformance-null", Type: "c", Major: 1, Minor: 3,
				FileMode: &mode, UID: u32(1000), GID: u32(100)})
			fifoMode := os.FileMode(0o600)
			g.AddDevice(rspec.LinuxDevice{Path: "/dev/conformance-fifo", Type: "p", FileMode: &fifoMode,
				UID: u32(0), GID: u32(0)})
			allowAll(g)
		})
	})
	register("linux_masked_paths", "linux.maskedPaths: runc's list and a file and directory of the rootfs",
		caseMaskedPaths)
	register("linux_readonly_paths", "linux.readonlyPaths: runc's list and a directory of the rootfs",
		caseReadonlyPaths)
	register("linux_sysctl", "linux.sysctl: namespaced ipc and net keys", func(h *harness) {
		h.insideValidate("sysctl", func(g *generate.Generator) {
			g.SetProcessArgs([]string{"/runtimetest", "-only", "sysctl"})
			g.AddLinuxSysctl("kernel.shm_rmid_forced", "1")
			g.AddLinuxSysctl("kernel.msgmax", "4096")
			g.AddLinuxSysctl("net.ipv4.ip_forward", "1")
		})
	})
	register("linux_seccomp", "linux.seccomp: errno rules on an allow-by-default filter", func(h *harness) {
		h.insideValidate("seccomp", func(g *generate.Generator) {
			g.SetProcessArgs([]string{"/runtimetest", "-only", "seccomp"})
			g.SetDefaultSeccompActionForce("allow")
			g.Config.Linux.Seccomp.Syscalls = append(g.Config.Linux.Seccomp.Syscalls,
				rspec.LinuxSyscall{Names: []string{"mkdir", "mkdirat"}, Action: rspec.ActErrno})
			enosys := uint(38)
			g.Config.Linux.Seccomp.Syscalls = append(g.Config.Linux.Seccomp.Syscalls,
				rspec.LinuxSyscall{Names: []string{"symlink", "symlinkat"}, Action: rspec.ActErrno, ErrnoRet: &enosys})
		})
	})
	register("linux_seccomp_args", "linux.seccomp: a rule with several conditions on one argument",
		func(h *harness) {
			h.insideValidate("seccompargs", func(g *generate.Generator) {
				g.SetProcessArgs([]string{"/runtimetest", "-only", "seccomp"})
				g.SetDefaultSeccompActionForce("allow")
				g.Config.Linux.Seccomp.Syscalls = append(g.Config.Linux.Seccomp.Syscalls,
					rspec.LinuxSyscall{Names: []string{"mkdir", "mkdirat"}, Action: rspec.ActErrno})
				// Conditions on one argument as in runtime-tools' and Docker's default
				// profiles (personality(0), (8) or (0xffffffff): ORed, as runc adds one
				// filter rule per condition); ERRNO here, so that it is not the default.
				var args []rspec.LinuxSeccompArg
				for _, v := range []uint64{0, 8, 0xffffffff} {
					args = append(args, rspec.LinuxSeccompArg{Index: 0, Value: v, Op: rspec.OpEqualTo})
				}
				g.Config.Linux.Seccomp.Syscalls = append(g.Config.Linux.Seccomp.Syscalls,
					rspec.LinuxSyscall{Names: []string{"personality"}, Action: rspec.ActErrno, Args: args})
			})
		})
	register("linux_rootfs_propagation", "linux.rootfsPropagation rshared and rprivate", func(h *harness) {
		for _, p := range []string{"rshared", "rprivate"} {
			p := p
			h.insideValidate(p, func(g *generate.Generator) {
				g.SetProcessArgs([]string{"/runtimetest", "-only", "propagation"})
				g.SetLinuxRootPropagation(p)
			})
		}
	})
	register("linux_uid_mappings", "a user namespace with linux.uidMappings and gidMappings", func(h *harness) {
		h.insideValidate("userns", func(g *generate.Generator) {
			g.SetProcessArgs([]string{"/runtimetest", "-only", "userns,user"})
			g.AddOrReplaceLinuxNamespace("user", "")
			g.AddLinuxUIDMapping(100000, 0, 65536)
			g.AddLinuxGIDMapping(100000, 0, 65536)
		})
	})
	register("process_rlimits_fail", "an unknown rlimit type is an error", func(h *harness) {
		h.createMustFail("rlimit", func(g *generate.Generator) {
			sleeper(g)
			g.AddProcessRlimits("RLIMIT_CONFORMANCE_BOGUS", 1, 1)
		})
	})
	register("process_capabilities_fail", "an unknown capability name is an error", func(h *harness) {
		h.createMustFail("capability", func(g *generate.Generator) {
			sleeper(g)
			g.Config.Process.Capabilities.Bounding = append(g.Config.Process.Capabilities.Bounding,
				"CAP_CONFORMANCE_BOGUS")
		})
	})
	register("linux_cgroups", "linux.resources memory, pids and cpu as the container sees them", func(h *harness) {
		h.insideValidate("cgroups", func(g *generate.Generator) {
			g.SetProcessArgs([]string{"/runtimetest", "-only", "cgroups"})
			g.AddMount(rspec.Mount{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup",
				Options: []string{"nosuid", "noexec", "nodev", "relatime", "ro"}})
			g.SetLinuxResourcesMemoryLimit(96 << 20)
			g.SetLinuxResourcesPidsLimit(77)
			g.SetLinuxResourcesCPUShares(512)
		})
	})
}

// allowAll lets the container use every device (the default configuration denies all).
func allowAll(g *generate.Generator) {
	g.Config.Linux.Resources.Devices = []rspec.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}}
}

func caseMounts(h *harness) {
	hostDir := filepath.Join(h.dir, "host-dir")
	os.MkdirAll(hostDir, 0o755)
	os.WriteFile(filepath.Join(hostDir, "from-host"), []byte("hello\n"), 0o644)
	h.insideValidate("mounts", func(g *generate.Generator) {
		g.SetProcessArgs([]string{"/runtimetest", "-only", "mounts"})
		g.AddMount(rspec.Mount{Destination: "/mnt/tmpfs", Type: "tmpfs", Source: "tmpfs",
			Options: []string{"nosuid", "nodev", "noexec", "mode=755", "size=1m"}})
		g.AddMount(rspec.Mount{Destination: "/mnt/bind-ro", Type: "bind", Source: hostDir,
			Options: []string{"rbind", "ro"}})
		g.AddMount(rspec.Mount{Destination: "/mnt/bind-rw", Type: "bind", Source: hostDir,
			Options: []string{"bind", "rw", "nosuid"}})
	})
}

// runc's default masked paths (its `runc spec`), and two of the rootfs's own.
var runcMaskedPaths = []string{"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
	"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
	"/sys/firmware", "/proc/scsi"}

var runcReadonlyPaths = []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}

func caseMaskedPaths(h *harness) {
	b := h.mustBundle("masked", func(g *generate.Generator) {
		g.SetProcessArgs([]string{"/runtimetest", "-only", "maskedpaths"})
		for _, p := range runcMaskedPaths {
			g.AddLinuxMaskedPaths(p)
		}
		g.AddLinuxMaskedPaths("/masked-dir")
		g.AddLinuxMaskedPaths("/masked-file")
	})
	os.MkdirAll(filepath.Join(b.rootfs, "masked-dir"), 0o755)
	os.WriteFile(filepath.Join(b.rootfs, "masked-dir", "secret"), []byte("secret\n"), 0o644)
	os.WriteFile(filepath.Join(b.rootfs, "masked-file"), []byte("secret\n"), 0o644)
	h.runBundle("masked", b)
}

func caseReadonlyPaths(h *harness) {
	b := h.mustBundle("readonly", func(g *generate.Generator) {
		g.SetProcessArgs([]string{"/runtimetest", "-only", "readonlypaths"})
		for _, p := range runcReadonlyPaths {
			g.AddLinuxReadonlyPaths(p)
		}
		g.AddLinuxReadonlyPaths("/readonly-dir")
	})
	os.MkdirAll(filepath.Join(b.rootfs, "readonly-dir"), 0o755)
	h.runBundle("readonly", b)
}

// createMustFail checks that a configuration the runtime cannot honour is refused, by
// create or at the latest by start, and that the program never runs.
func (h *harness) createMustFail(what string, edit func(g *generate.Generator)) {
	t := h.t
	b := h.mustBundle(what, edit)
	id := h.newID(what)
	out, cerr := h.create(b, id)
	var serr error
	if cerr == nil {
		out, serr = h.run("start", id)
	}
	t.Okf(cerr != nil || serr != nil, what+": create or start fails", "both succeeded: %s", out)
	t.Okf(cerr != nil, what+": create fails", "create succeeded")
	time.Sleep(500 * time.Millisecond)
	_, err := os.Stat(filepath.Join(b.rootfs, "started"))
	t.Okf(os.IsNotExist(err), what+": the program does not run", "/started exists")
}
