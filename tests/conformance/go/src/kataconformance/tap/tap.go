// Package tap writes and reads the Test Anything Protocol lines that the conformance
// programs print: "ok N - description" or "not ok N - description", diagnostics as
// "# ..." lines, and the plan "1..N" at the end.
package tap

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"sync"
)

// Writer numbers assertions and prints them as they are made.
type Writer struct {
	mu  sync.Mutex
	out io.Writer
	n   int
	bad int
}

// New returns a Writer printing to out.
func New(out io.Writer) *Writer { return &Writer{out: out} }

// Ok records one assertion; a failed one gets its diagnostic as comment lines.
func (w *Writer) Ok(ok bool, description string, diag string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.n++
	// A description is the assertion's identity across runtimes: one line, no '#'.
	description = strings.NewReplacer("\n", " ", "#", "").Replace(description)
	if ok {
		fmt.Fprintf(w.out, "ok %d - %s\n", w.n, description)
		return
	}
	w.bad++
	fmt.Fprintf(w.out, "not ok %d - %s\n", w.n, description)
	for _, line := range strings.Split(strings.TrimRight(diag, "\n"), "\n") {
		if line != "" {
			fmt.Fprintf(w.out, "#   %s\n", line)
		}
	}
}

// Okf is Ok with a formatted diagnostic.
func (w *Writer) Okf(ok bool, description string, format string, args ...interface{}) {
	w.Ok(ok, description, fmt.Sprintf(format, args...))
}

// Comment prints a diagnostic line that is not an assertion.
func (w *Writer) Comment(format string, args ...interface{}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	fmt.Fprintf(w.out, "# "+format+"\n", args...)
}

// Plan prints the closing "1..N" line.
func (w *Writer) Plan() {
	w.mu.Lock()
	defer w.mu.Unlock()
	fmt.Fprintf(w.out, "1..%d\n", w.n)
}

// Failures is how many assertions failed so far.
func (w *Writer) Failures() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.bad
}

// Result is one assertion read back from TAP text.
type Result struct {
	Ok          bool
	Description string
	Diag        []string
}

// Parse reads the assertions of TAP text, with each failure's diagnostic lines. Lines
// that are neither are ignored (a container may print other things).
func Parse(r io.Reader) []Result {
	var results []Result
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		ok := strings.HasPrefix(line, "ok ")
		if !ok && !strings.HasPrefix(line, "not ok ") {
			if strings.HasPrefix(line, "#") && len(results) > 0 && !results[len(results)-1].Ok {
				last := &results[len(results)-1]
				last.Diag = append(last.Diag, strings.TrimSpace(strings.TrimPrefix(line, "#")))
			}
			continue
		}
		desc := ""
		if i := strings.Index(line, " - "); i >= 0 {
			desc = line[i+3:]
		}
		results = append(results, Result{Ok: ok, Description: desc})
	}
	return results
}
