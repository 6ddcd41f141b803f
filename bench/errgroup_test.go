package bench

import "golang.org/x/sync/errgroup"

// errgroupRunner runs each call in a goroutine of an errgroup.Group with
// SetLimit(parallelism): the plain worker pool, with nothing keeping two
// calls of one key apart. Submit blocks while parallelism calls run.
type errgroupRunner struct {
	g    errgroup.Group
	work func(call)
}

func newErrgroup(work func(call)) (runner, error) {
	r := &errgroupRunner{work: work}
	r.g.SetLimit(parallelism)
	return r, nil
}

func (r *errgroupRunner) submit(c call) error {
	r.g.Go(func() error {
		r.work(c)
		return nil
	})
	return nil
}

func (r *errgroupRunner) settle() error { return nil }

func (r *errgroupRunner) close() error { return r.g.Wait() }
