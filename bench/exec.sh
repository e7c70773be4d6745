# Section 2, exec latency: `kata-runtime exec` of /bin/true into a running container,
# beside `runc exec` into a runc container of the same bundle. Sourced by bench/run.sh.
# shellcheck shell=bash

exec_kata_once() {
	"$TOOLS/bench-run" --stderr "$WORK/exec.err" -- "$RUNTIME" --kata-config "$CONFIG" \
		--root "$ROOT" exec "$1" /bin/true || die "kata-runtime exec failed: $(head -c 300 "$WORK/exec.err")"
}

exec_runc_once() {
	"$TOOLS/bench-run" --stderr "$WORK/exec.err" -- "$RUNC" --root "$RUNC_ROOT" exec "$1" \
		/bin/true || die "runc exec failed: $(head -c 300 "$WORK/exec.err")"
}

section_exec() {
	local kid=exec$$ rid=execrunc$$ r n=$((RUNS * 2))
	log "exec: starting a container in each runtime"
	ensure_bundle sleep sleep 100000
	kata_run_detached "$CONFIG" "$kid" "$WORK/bundles/sleep" ||
		die "run -d failed: $(head -c 300 "$WORK/$kid.err")"
	[ -n "$RUNC" ] && { runc_run_detached "$rid" "$WORK/bundles/sleep" || die "runc run -d failed"; }
	exec_kata_once "$kid" >/dev/null
	[ -n "$RUNC" ] && exec_runc_once "$rid" >/dev/null
	for ((r = 1; r <= n; r++)); do
		sample exec_kata "$(field wall "$(exec_kata_once "$kid")")"
		[ -n "$RUNC" ] && sample exec_runc "$(field wall "$(exec_runc_once "$rid")")"
	done
	kata_delete "$CONFIG" "$kid"
	[ -n "$RUNC" ] && runc_delete "$rid"
	figure exec exec_kata s "kata-runtime exec /bin/true" exec_runc "runc exec /bin/true" "<=" 5
	figure exec exec_runc s "runc exec /bin/true"
}
