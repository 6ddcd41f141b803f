package bench

// parallelism is the global cap of every implementation: MaxParallel,
// SetLimit, workers or semaphore slots.
const parallelism = 8

// call is one invocation: the key it runs under, and a number whose meaning
// the workload chooses (the key's index, or the submitter's). It is passed
// by value, as a task's arguments would be.
type call struct {
	key string
	n   int
}

// runner is one implementation under test, built around the workload's
// work function. It runs work(c) once for every call submitted, at most
// parallelism at once and, when it is keyed, never two calls of one key at
// once. Completion is observed inside work, the same way for every runner.
type runner interface {
	// submit schedules one call. It may block when the implementation
	// pushes back. Only perkey can fail.
	submit(c call) error
	// settle is called by the submitting goroutine after a window of
	// submissions, before waiting for them: perkey-wait waits on every
	// handle of the window here; the others have nothing to do.
	settle() error
	// close is called once every submitted call has finished: it stops
	// the implementation and joins every goroutine it started.
	close() error
}

// impl names an implementation and builds its runners.
type impl struct {
	name string
	// keyed: it keeps two calls of one key from overlapping.
	keyed bool
	// single: submit and settle must be called from one goroutine.
	single bool
	new    func(work func(call)) (runner, error)
}

// allImpls lists every implementation, in the order of the report.
func allImpls() []impl {
	return []impl{
		{name: "perkey", keyed: true, new: newPerkey},
		{name: "perkey-wait", keyed: true, single: true, new: newPerkeyWait},
		{name: "perkey-go", keyed: true, new: newPerkeyGo},
		{name: "errgroup", new: newErrgroup},
		{name: "keyedmutex", keyed: true, new: newKeyedMutex},
		{name: "workqueue", keyed: true, new: newWorkqueue},
		{name: "naiveactor", keyed: true, new: newNaiveActor},
	}
}

// keyedImpls lists the implementations that guard keys and accept several
// submitters: perkey and the keyed baselines.
func keyedImpls() []impl {
	var out []impl
	for _, im := range allImpls() {
		if im.keyed && !im.single {
			out = append(out, im)
		}
	}
	return out
}
