package postgres

import "errors"

// errFull is the error of a submission refused by a task's MaxQueued.
// TODO: scheduler.ErrFull once the scheduler has it.
var errFull = errors.New("scheduler: full")
