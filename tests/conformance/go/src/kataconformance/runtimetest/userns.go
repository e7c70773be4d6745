package main

import (
	"fmt"
	"os"
	"strings"

	rspec "github.com/opencontainers/runtime-spec/specs-go"

	"kataconformance/tap"
)

// readIDMap reads /proc/self/uid_map or gid_map as "container host size" triples.
func readIDMap(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		out = append(out, strings.Join(strings.Fields(line), " "))
	}
	return out, nil
}

func checkUserNamespace(t *tap.Writer, spec *rspec.Spec) {
	if spec.Linux == nil {
		return
	}
	maps := []struct {
		name string
		file string
		want []rspec.LinuxIDMapping
	}{
		{"uidMappings", "/proc/self/uid_map", spec.Linux.UIDMappings},
		{"gidMappings", "/proc/self/gid_map", spec.Linux.GIDMappings},
	}
	for _, m := range maps {
		if len(m.want) == 0 {
			continue
		}
		got, err := readIDMap(m.file)
		var want []string
		for _, w := range m.want {
			want = append(want, fmt.Sprintf("%d %d %d", w.ContainerID, w.HostID, w.Size))
		}
		t.Okf(err == nil && strings.Join(got, ",") == strings.Join(want, ","),
			describe("linux.%s are the user namespace's", m.name), "%s is %v, want %v (%v)", m.file, got, want, err)
	}
}
