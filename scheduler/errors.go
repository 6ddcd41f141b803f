package scheduler

import (
	"errors"
	"fmt"
	"runtime/debug"
)

// Errors returned by the scheduler. Check them with errors.Is: the errors
// actually returned often wrap one of these with more detail (a cause, a task
// name, a panic value).
var (
	// ErrDropped is returned by Wait for an invocation of an OnBusy=Drop task
	// whose key was busy when it was routed: it ended without running.
	ErrDropped = errors.New("scheduler: dropped: key busy")
	// ErrExpired is returned by Wait for an invocation that was still not
	// running MaxWait after Submit: it ended without running.
	ErrExpired = errors.New("scheduler: expired: not started within MaxWait")
	// ErrCanceled is returned by Wait for an invocation that was cancelled:
	// its Submit ctx ended while it waited, or Close gave up waiting. The
	// returned error also wraps the cause (context.Canceled,
	// context.DeadlineExceeded or ErrClosed). Submit returns it, wrapped
	// with the cause, for a ctx that has already ended.
	ErrCanceled = errors.New("scheduler: canceled")
	// ErrReplaced is the cause of an invocation cancelled by a newer
	// submission of an OnBusy=Replace task; its error wraps ErrCanceled too.
	ErrReplaced = errors.New("scheduler: replaced by a newer invocation")
	// ErrClosed is returned by Submit and NewTask once Close has been
	// called, and is the cause of work that Close cancelled.
	ErrClosed = errors.New("scheduler: closed")
	// ErrPanic is wrapped by the error of an invocation whose task panicked;
	// errors.As with a *PanicError gives the value and the stack.
	ErrPanic = errors.New("scheduler: task panicked")
	// ErrGoexit is the error of an invocation whose task called
	// runtime.Goexit, or whose Running event's hook did (see
	// Config.OnEvent).
	ErrGoexit = errors.New("scheduler: task called runtime.Goexit")
	// ErrFull is wrapped by Submit's error when a MaxQueued bound
	// (Config.MaxQueued or Options.MaxQueued) is reached and its OnFull is
	// Reject: the submission created nothing. The error names the bound.
	ErrFull = errors.New("scheduler: full: too many invocations waiting")
	// ErrLeaked is wrapped by Close's error when tasks were still running
	// CloseGrace after their contexts were cancelled; the error names them.
	ErrLeaked = errors.New("scheduler: tasks still running after cancellation")

	// ErrInvalid is wrapped by every error about a bad argument below.
	ErrInvalid = errors.New("scheduler: invalid argument")
	// ErrNilContext: a nil context.Context was passed.
	ErrNilContext = fmt.Errorf("%w: nil context", ErrInvalid)
	// ErrNilScheduler: a nil *Scheduler, or one not made by New, was used.
	ErrNilScheduler = fmt.Errorf("%w: nil scheduler", ErrInvalid)
	// ErrNilFunc: NewTask was given a nil task function.
	ErrNilFunc = fmt.Errorf("%w: nil task func", ErrInvalid)
	// ErrEmptyName: NewTask was given an empty name.
	ErrEmptyName = fmt.Errorf("%w: empty task name", ErrInvalid)
	// ErrDuplicateName: a task with that name already exists on the scheduler.
	ErrDuplicateName = fmt.Errorf("%w: duplicate task name", ErrInvalid)
	// ErrNoKeyFunc: a scope is ByKey but Options.Key is nil.
	ErrNoKeyFunc = fmt.Errorf("%w: ByKey scope without a Key func", ErrInvalid)
	// ErrEmptyKey: Options.Key returned "" for the submitted arguments.
	ErrEmptyKey = fmt.Errorf("%w: Key returned an empty key", ErrInvalid)
	// ErrBadOption: a Config or Options field is out of range or does not
	// fit with the others; the message names the field.
	ErrBadOption = fmt.Errorf("%w: bad option", ErrInvalid)
	// ErrNilInvocation: a method was called on a nil *Invocation.
	ErrNilInvocation = fmt.Errorf("%w: nil invocation", ErrInvalid)
)

// PanicError is the error of an invocation whose task panicked. It wraps
// ErrPanic and, when the panic value is an error, that error too.
type PanicError struct {
	Value any    // the value passed to panic
	Stack []byte // the panicking goroutine's stack
}

func newPanicError(v any) *PanicError {
	return &PanicError{Value: v, Stack: debug.Stack()}
}

// Error describes the panic value; the stack is in Stack.
func (e *PanicError) Error() string {
	if e == nil {
		return ErrPanic.Error()
	}
	return fmt.Sprintf("%v: %v", ErrPanic, e.Value)
}

// Unwrap returns ErrPanic, and the panic value when it is an error.
func (e *PanicError) Unwrap() []error {
	if e == nil {
		return []error{ErrPanic}
	}
	if err, ok := e.Value.(error); ok {
		return []error{ErrPanic, err}
	}
	return []error{ErrPanic}
}

// canceled returns the error of an invocation cancelled by cause.
func canceled(cause error) error {
	if cause == nil {
		return ErrCanceled
	}
	return fmt.Errorf("%w: %w", ErrCanceled, cause)
}

// inputError is a bad input to New, NewTask or a task's Submit. Its
// message names the task, when there is one, and the option or argument at
// fault and what is wrong with it, such as `task "x": Running ByKey needs a
// Key func`; it matches its sentinel (ErrBadOption, ErrNoKeyFunc...) with
// errors.Is.
type inputError struct {
	task string // "" for New, or before a task has a name
	what string // the option or argument, then what is wrong with it
	err  error  // the sentinel
}

func (e *inputError) Error() string {
	if e.task == "" {
		return "scheduler: " + e.what
	}
	return fmt.Sprintf("task %q: %s", e.task, e.what)
}

func (e *inputError) Unwrap() error { return e.err }

// badOption is an ErrBadOption about the option described by format.
func badOption(format string, args ...any) *inputError {
	return &inputError{what: fmt.Sprintf(format, args...), err: ErrBadOption}
}

// badInput is an error about task's input, matching sentinel.
func badInput(task string, sentinel error, format string, args ...any) error {
	return &inputError{task: task, what: fmt.Sprintf(format, args...), err: sentinel}
}

// taskError names the task in an error that is not about its input (the
// scheduler is closed, a ctx ended, a Key func panicked).
func taskError(task, context string, err error) error {
	if context == "" {
		return fmt.Errorf("task %q: %w", task, err)
	}
	return fmt.Errorf("task %q: %s: %w", task, context, err)
}
