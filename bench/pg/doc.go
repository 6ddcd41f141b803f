// Package pg compares perkey's PostgreSQL backend with River
// (github.com/riverqueue/river v0.51.2 and its pgx v5 driver), the Go job
// queue on PostgreSQL that users would pick instead, on one private
// server in one run. Its benchmarks live in the package's _test.go files;
// this module exists only for them and for cmd/pgreport, which turns
// their output into a table and a chart. It is its own module so that
// River stays out of the library's go.mod.
//
// The systems, each with 8 slots per process:
//
//	perkey          postgres.Backend, scheduler MaxParallel 8, a task with
//	                Running=ByKey, OnBusy=Wait: one job per key at a time
//	perkey-unkeyed  the same task without a Running scope (no key guard)
//	river           River with its defaults (FetchCooldown 100ms,
//	                FetchPollInterval 1s, LISTEN/NOTIFY), one queue with
//	                MaxWorkers 8; unkeyed: open-source River has no
//	                per-key limit
//	river-fast      the same with FetchCooldown 1ms, River's minimum
//
// River at its defaults fetches at most once per FetchCooldown, so with
// 8 workers it runs at most 8 jobs per 100ms per process (about 80 jobs/s):
// it is measured where the cooldown does not matter (idle latency,
// inserts) and, with -pgriverdefault, in the throughput benchmarks too.
// river-fast is the River a user would tune for throughput at 8 workers,
// and the peer of the throughput ratios.
//
// Every run has a submitter in the benchmark process (a SubmitOnly
// perkey scheduler; an insert-only River client) and workers: one in the
// benchmark process (procs=1), or three worker processes, the test binary
// re-executed (procs=3). Each measurement gets fresh schemas. A job is
// done when its completion is committed: for perkey when the
// submitter's Invocation.Done is closed (released by the backend's done
// notifications), for River when a worker's subscription reports
// EventKindJobCompleted, which River sends once its completer has written
// the batch.
//
// The benchmarks (b.N repeats the whole scenario; sizes from flags):
//
//	BenchmarkNoop/procs=P/mode=total/impl=I    (a) insert -pgjobs no-op jobs over
//	                                           -pgkeys keys in batches of -pgbatch,
//	                                           workers running: jobs/s until all done
//	BenchmarkNoop/procs=P/mode=drain/impl=I    (a) the same jobs inserted first,
//	                                           then the workers start: jobs/s
//	BenchmarkSleep/sleep=D/procs=P/impl=I      (b) -pgkeys keys x -pgqueued jobs of
//	                                           -pgsleep each, inserted first: drain
//	                                           time against the bound, total work /
//	                                           (8 slots x P)
//	BenchmarkLatency/impl=I                    (c) submit-to-start when idle: one job
//	                                           at a time, -pgsamples of them, the next
//	                                           submitted once the last is done and at
//	                                           least -pgpace after the last submit
//	BenchmarkInsert/impl=I                     (d) -pgbatches batches of -pgbatch
//	                                           (SubmitAll; InsertMany), no workers
//
// Each reports its metrics (jobs/s, drain-s, bound-s, x-bound, p50-ms,
// p99-ms, rows/s) and, with a private server, the CPU the Go processes
// and the PostgreSQL processes used over the measured interval, in
// percent of one core (go-cpu-%, pg-cpu-%). With -pgprofile FILE the
// server runs pg_stat_statements (track=all) and every measurement
// appends its top statements by total time and its CPU split to FILE.
//
// The server is the one named by PERKEY_DATABASE_URL, or a private one
// started once per test binary from the installed binaries (as the
// postgres user when root) and removed at the end. -short shrinks every
// size, for CI. The harness's own tests (go test ./...) run each
// workload small, in one process and across three, and check that every
// job ran exactly once.
//
// CI:
//
//	cd bench/pg && go vet ./... && go test ./... && go test -short -run '^$' -bench . -benchtime 1x
//
// The numbers: ./run (see its header) runs every benchmark -count times
// under the team's CPU lock, and cmd/pgreport prints the medians, their
// spread and the perkey/River ratios as Markdown (testdata/table.md) and
// draws pg.svg; ./run -profile adds testdata/profile.md.
package pg
