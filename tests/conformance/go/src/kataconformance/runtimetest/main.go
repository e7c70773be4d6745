// runtimetest runs as the process of a conformance container. It reads the container's
// config.json (copied into the root as /config.json by the harness) and prints, in TAP,
// whether what it sees inside matches it: process, user, hostname, rlimits,
// capabilities, mounts, devices, masked and read-only paths, sysctls, seccomp.
// It is built static so that any rootfs can hold it.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"

	rspec "github.com/opencontainers/runtime-spec/specs-go"

	"kataconformance/tap"
)

type check struct {
	name string
	run  func(t *tap.Writer, spec *rspec.Spec)
}

// The order is the order of the output: a stable order keeps results comparable.
var checks = []check{
	{"process", checkProcess},
	{"user", checkUser},
	{"hostname", checkHostname},
	{"rlimits", checkRlimits},
	{"capabilities", checkCapabilities},
	{"nonewprivileges", checkNoNewPrivileges},
	{"oomscoreadj", checkOOMScoreAdj},
	{"root", checkRootReadonly},
	{"mounts", checkMounts},
	{"devices", checkDefaultDevices},
	{"linuxdevices", checkLinuxDevices},
	{"maskedpaths", checkMaskedPaths},
	{"readonlypaths", checkReadonlyPaths},
	{"sysctl", checkSysctl},
	{"namespaces", checkNamespaces},
	{"seccomp", checkSeccomp},
	{"propagation", checkRootfsPropagation},
}

func main() {
	configPath := flag.String("config", "/config.json", "the container's configuration")
	only := flag.String("only", "", "comma-separated checks to run (default: all)")
	flag.Parse()

	t := tap.New(os.Stdout)
	data, err := os.ReadFile(*configPath)
	if err != nil {
		t.Ok(false, "runtimetest reads its configuration", err.Error())
		t.Plan()
		os.Exit(1)
	}
	var spec rspec.Spec
	if err := json.Unmarshal(data, &spec); err != nil {
		t.Ok(false, "runtimetest reads its configuration", err.Error())
		t.Plan()
		os.Exit(1)
	}
	want := map[string]bool{}
	for _, name := range strings.Split(*only, ",") {
		if name != "" {
			want[name] = true
		}
	}
	for _, c := range checks {
		if len(want) > 0 && !want[c.name] {
			continue
		}
		c.run(t, &spec)
	}
	t.Plan()
	if t.Failures() > 0 {
		os.Exit(1)
	}
}

// procStatus reads the "Key:\tvalue" lines of /proc/self/status.
func procStatus() (map[string]string, error) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			out[k] = strings.TrimSpace(v)
		}
	}
	return out, nil
}

func describe(format string, args ...interface{}) string { return fmt.Sprintf(format, args...) }

func init() {
	checks = append(checks, check{"cgroups", checkCgroups})
}

func init() {
	checks = append(checks, check{"userns", checkUserNamespace})
}
