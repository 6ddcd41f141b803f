package postgres

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/perkey/perkey/scheduler"
)

// Submit implements scheduler.Backend: one round trip, one transaction,
// whatever the batch's size. Every submission's task must be registered
// in this process.
func (b *Backend) Submit(ctx context.Context, batch []scheduler.Submission) ([]scheduler.Receipt, error) {
	if b.closing.Load() {
		return nil, fmt.Errorf("postgres: submit: %w", scheduler.ErrClosed)
	}
	n := len(batch)
	tasks := make([]string, n)
	keys := make([]string, n)
	kds := make([][]byte, n)
	rds := make([][]byte, n)
	labels := make([]*string, n)
	args := make([]string, n)
	simple := true
	for i, sub := range batch {
		spec, ok := b.task(sub.Task)
		if !ok {
			return nil, fmt.Errorf("postgres: submit: task %q: %w: not registered with this scheduler", sub.Task, scheduler.ErrInvalid)
		}
		tasks[i], keys[i], args[i] = sub.Task, sub.Key, string(sub.Args)
		if ks := spec.Keyspace(); ks != "" {
			kds[i] = digest("k", ks, sub.Key)
		}
		if spec.Registration != scheduler.Disabled {
			rds[i] = digest("r", sub.Task, sub.Reg)
		}
		if sub.Label != "" {
			labels[i] = &batch[i].Label
		}
		simple = simple && isSimple(spec)
	}
	var rows pgx.Rows
	var err error
	if simple {
		rows, err = b.pool.Query(ctx, b.sql.submitSimple, tasks, keys, kds, labels, args, b.publish.Load())
	} else {
		rows, err = b.pool.Query(ctx, b.sql.submit, tasks, keys, kds, rds, labels, args, b.publish.Load())
	}
	if err != nil {
		return nil, b.submitError(err)
	}
	receipts := make([]scheduler.Receipt, 0, n)
	var id int64
	var state int16
	var deduped bool
	_, err = pgx.ForEachRow(rows, []any{&id, &state, &deduped}, func() error {
		i := len(receipts)
		receipts = append(receipts, scheduler.Receipt{ID: uint64(id), Key: keys[i], State: scheduler.State(state), Deduped: deduped})
		return nil
	})
	if err != nil {
		return nil, b.submitError(err)
	}
	if len(receipts) != n {
		return nil, fmt.Errorf("postgres: submit: %d receipts for %d submissions", len(receipts), n)
	}
	for _, r := range receipts {
		b.stats.submitted.Add(1)
		switch {
		case r.Deduped:
			b.stats.deduped.Add(1)
		case r.State == scheduler.Dropped:
			b.stats.dropped.Add(1)
		}
	}
	return receipts, nil
}

// isSimple reports whether the submissions of a task can take the
// set-based path: it waits, does not dedupe and has no rate.
func isSimple(spec scheduler.TaskSpec) bool {
	return spec.OnBusy == scheduler.Wait && spec.Registration == scheduler.Disabled && spec.Rate == 0 && spec.MaxQueued == 0
}

// submitError turns the database's refusals into the scheduler's errors.
func (b *Backend) submitError(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "P0002":
			return fmt.Errorf("postgres: submit: %w: %s", scheduler.ErrInvalid, pgErr.Message)
		case "P0003":
			return fmt.Errorf("postgres: submit: %w: %s", scheduler.ErrFull, pgErr.Message)
		}
	}
	return fmt.Errorf("postgres: submit: %w", err)
}

// digest names a key (or a registration key) in the database: a 16-byte
// hash of its space and itself, so that keys of any length index alike.
func digest(kind, space, key string) []byte {
	h := sha256.New()
	h.Write([]byte(kind))
	h.Write([]byte{0})
	h.Write([]byte(space))
	h.Write([]byte{0})
	h.Write([]byte(key))
	return h.Sum(nil)[:16]
}

// Lookup implements scheduler.Backend.
func (b *Backend) Lookup(ctx context.Context, task string, id uint64) (scheduler.Receipt, error) {
	var key string
	var state int16
	err := b.pool.QueryRow(ctx, b.sql.lookup, int64(id), task).Scan(&key, &state)
	if errors.Is(err, pgx.ErrNoRows) {
		return scheduler.Receipt{}, fmt.Errorf("postgres: task %q invocation %d: %w", task, id, scheduler.ErrNotFound)
	}
	if err != nil {
		return scheduler.Receipt{}, fmt.Errorf("postgres: lookup: %w", err)
	}
	return scheduler.Receipt{ID: id, Key: key, State: scheduler.State(state)}, nil
}

// Outcome implements scheduler.Backend.
func (b *Backend) Outcome(ctx context.Context, id uint64) (scheduler.Outcome, error) {
	var task, key, worker string
	var state, kind int16
	var result []byte
	var errText *string
	err := b.pool.QueryRow(ctx, b.sql.outcome, int64(id)).Scan(&task, &key, &state, &result, &errText, &kind, &worker)
	if errors.Is(err, pgx.ErrNoRows) {
		return scheduler.Outcome{}, fmt.Errorf("postgres: invocation %d: %w", id, scheduler.ErrNotFound)
	}
	if err != nil {
		return scheduler.Outcome{}, fmt.Errorf("postgres: outcome of invocation %d: %w", id, err)
	}
	out := scheduler.Outcome{State: scheduler.State(state), Worker: worker}
	text := ""
	if errText != nil {
		text = *errText
	}
	switch out.State {
	case scheduler.Succeeded:
		out.Result = result
	case scheduler.Failed:
		out.Err = &scheduler.RemoteError{Task: task, ID: id, Worker: worker, Message: text, Cause: failureCause(kind)}
	default:
		out.Err = finalError(out.State, kind, text)
	}
	return out, nil
}

// Kinds of error, in the err_kind column.
const (
	kindError    = 0
	kindPanic    = 1
	kindGoexit   = 2
	kindReplaced = 3
	kindClosed   = 4
	kindDecode   = 5
)

// kindOf classifies a task's error for the err_kind column.
func kindOf(err error) int16 {
	switch {
	case errors.Is(err, scheduler.ErrPanic):
		return kindPanic
	case errors.Is(err, scheduler.ErrGoexit):
		return kindGoexit
	case errors.Is(err, scheduler.ErrDecode):
		return kindDecode
	}
	return kindError
}

func failureCause(kind int16) error {
	switch kind {
	case kindPanic:
		return scheduler.ErrPanic
	case kindGoexit:
		return scheduler.ErrGoexit
	case kindDecode:
		return scheduler.ErrDecode
	}
	return nil
}

// finalError is the error of an invocation that ended without succeeding
// or failing.
func finalError(state scheduler.State, kind int16, text string) error {
	switch state {
	case scheduler.Dropped:
		return scheduler.ErrDropped
	case scheduler.Expired:
		return scheduler.ErrExpired
	case scheduler.Canceled:
		cause := error(scheduler.ErrClosed)
		if kind == kindReplaced {
			cause = scheduler.ErrReplaced
		}
		if text != "" {
			return fmt.Errorf("%w: %w; the task returned: %s", scheduler.ErrCanceled, cause, text)
		}
		return fmt.Errorf("%w: %w", scheduler.ErrCanceled, cause)
	}
	return nil
}
