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
//	perkey-go    the same task, submitted with Task.Go: no handle
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
//	BenchmarkBatch/impl=NAME                batches of 4,096 submitted, then waited
//
// CI tests the harness and the report tool, and compiles and runs every
// benchmark once:
//
//	cd bench && go vet ./... && go test -race ./... && go test -run '^$' -bench . -benchtime 1x
//
// The README's Performance section, bench/throughput.svg and the raw
// capture in testdata/sample.txt come from one script, which runs every
// benchmark 5 times (about 10 minutes on the 2-core machine; run nothing
// else meanwhile) and reports medians, spreads and ratios:
//
//	cd bench && ./run -count 5
//
// Throughput takes -benchtime as the number of invocations, so 1000000x
// uses each of the 1,000,000 keys once; the other benchmarks run whole
// scenarios per iteration and keep the default -benchtime.
package bench
