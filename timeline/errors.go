package timeline

import (
	"errors"
	"fmt"
)

// Errors returned by the package. Check them with errors.Is: the errors
// actually returned may wrap one of these with more detail.
var (
	// ErrInvalid is wrapped by every error about a bad argument below.
	ErrInvalid = errors.New("timeline: invalid argument")
	// ErrNilRecorder: a method was called on a nil *Recorder.
	ErrNilRecorder = fmt.Errorf("%w: nil recorder", ErrInvalid)
	// ErrNilWriter: Render was given a nil io.Writer.
	ErrNilWriter = fmt.Errorf("%w: nil writer", ErrInvalid)
	// ErrBadConfig: a Config field is out of range; the message names it.
	ErrBadConfig = fmt.Errorf("%w: bad config", ErrInvalid)
)
