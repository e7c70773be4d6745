/* Named steps where the fault-injection tests (tests/e2e/faults.sh) stop the runtime, to
 * kill it there with SIGKILL and see that nothing is lost or left behind.
 *
 * Only a test build has the hook: `kata-runtime-faults` (built for the tests, never
 * installed) links cli/fault_point.c compiled with KATA_FAULT_POINTS, where
 * fault_point(NAME) stops the process (SIGSTOP) when KATA_FAULT_STOP_AT names NAME. In
 * the shipped kata-runtime the function is empty: no environment variable changes
 * anything. docs/error-handling.md lists the steps.
 */
#ifndef KATA_CLI_FAULT_POINT_H
#define KATA_CLI_FAULT_POINT_H

void fault_point(const char *name);

#endif
