// validation drives an OCI runtime through the runtime-spec's lifecycle and configuration
// cases and prints the assertions of one case in TAP. The runtime is $RUNTIME (a single
// executable, as for runtime-tools' validation suite); the bundle rootfs is copied from
// $CONFORMANCE_ROOTFS, the in-container checker is $CONFORMANCE_RUNTIMETEST, and the
// case's files go under $CONFORMANCE_TMP. Every container a case makes is force-deleted
// before it returns, also when it is interrupted.
//
// usage: validation -list | validation CASE
package main

import (
	"fmt"
	"os"
	"os/signal"
	"sort"
	"syscall"

	"kataconformance/tap"
)

type testCase struct {
	name string
	doc  string
	run  func(h *harness)
}

var cases = map[string]testCase{}

func register(name, doc string, run func(h *harness)) {
	cases[name] = testCase{name: name, doc: doc, run: run}
}

func main() {
	if len(os.Args) == 2 && os.Args[1] == "-list" {
		var names []string
		for n := range cases {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Printf("%s\t%s\n", n, cases[n].doc)
		}
		return
	}
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: validation -list | validation CASE")
		os.Exit(2)
	}
	tc, ok := cases[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "validation: no case %q\n", os.Args[1])
		os.Exit(2)
	}
	h, err := newHarness(tc.name, tap.New(os.Stdout))
	if err != nil {
		fmt.Fprintf(os.Stderr, "validation: %v\n", err)
		os.Exit(2)
	}
	// A case stopped from outside (a timeout) still removes its containers.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	go func() {
		s := <-sigs
		h.t.Comment("interrupted by %v: cleaning up", s)
		h.cleanup()
		os.Exit(3)
	}()

	func() {
		defer func() {
			if r := recover(); r != nil {
				h.t.Ok(false, "the case runs to its end", fmt.Sprint(r))
			}
		}()
		tc.run(h)
	}()
	h.cleanup()
	h.t.Plan()
	if h.t.Failures() > 0 {
		os.Exit(1)
	}
}
