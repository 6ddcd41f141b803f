package monitor

import (
	"errors"
	"fmt"
)

// Errors returned by the package. Check them with errors.Is: the errors
// actually returned may wrap one of these with more detail.
var (
	// ErrInvalid is wrapped by every error about a bad argument below.
	ErrInvalid = errors.New("monitor: invalid argument")
	// ErrNilScheduler: New or Handler was given a nil *scheduler.Scheduler.
	ErrNilScheduler = fmt.Errorf("%w: nil scheduler", ErrInvalid)
	// ErrBadConfig: a Config field is out of range; the message names it.
	ErrBadConfig = fmt.Errorf("%w: bad config", ErrInvalid)
	// ErrClosed is the answer to a stream request after Close.
	ErrClosed = errors.New("monitor: closed")
)
