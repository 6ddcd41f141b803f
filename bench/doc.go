// Package bench compares perkey's scheduler with what a Go user would pick
// instead, on the same workloads in the same run. Its benchmarks live in
// the package's _test.go files; this module exists only for them and for
// cmd/benchreport, which turns their output into the README's Performance
// section. It is its own module so that client-go, which only the
// benchmarks need, stays out of the library's go.mod.
//
// The implementations, each capped at 8 invocations at once:
//
//	perkey       scheduler.Task with Running=ByKey, OnBusy=Wait
//	perkey-wait  the same, and the submitter calls Wait on every handle
//	errgroup     errgroup.Group with SetLimit(8) and no key guard (unsafe)
//	keyedmutex   a map[string]*sync.Mutex under a mutex, plus errgroup(8)
//	workqueue    client-go's util/workqueue with 8 workers and a FIFO per key
//	naiveactor   a goroutine and channel per key, never reclaimed
//
// The benchmarks:
//
//	BenchmarkThroughput/keys=K/impl=NAME    no-op invocations over K keys
//	BenchmarkLatency/submitters=S/impl=NAME submit-to-start percentiles
//	BenchmarkNoisyNeighbour/impl=NAME       a cold key behind 100 hot keys
//	BenchmarkHold/impl=NAME                 1 ms calls, makespan over its bound
//
// CI tests the harness and the report tool, and compiles and runs every
// benchmark once:
//
//	cd bench && go vet ./... && go test -race ./... && go test -run '^$' -bench . -benchtime 1x
//
// The README's Performance section comes from a capture kept in
// testdata/sample.txt (several minutes on the 2-core machine; run nothing
// else meanwhile):
//
//	cd bench
//	go test -run '^$' -bench Throughput -benchmem -benchtime 1000000x -timeout 60m > testdata/sample.txt
//	go test -run '^$' -bench 'Latency|NoisyNeighbour|Hold' -benchmem -timeout 30m >> testdata/sample.txt
//	go run ./cmd/benchreport -machine '2 cores, 24 GiB' -svg throughput.svg -readme ../README.md testdata/sample.txt
//
// Throughput takes -benchtime as the number of invocations, so 1000000x
// uses each of the 1,000,000 keys once; the other benchmarks run whole
// scenarios per iteration and keep the default -benchtime.
package bench
