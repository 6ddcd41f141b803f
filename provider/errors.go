package provider

import (
	"errors"
	"fmt"
)

// Errors returned by this package. Check them with errors.Is: the errors
// actually returned wrap one of these with detail (the request, the cause).
var (
	// ErrInvalid is wrapped by every error about a bad argument: a bad base
	// URL, an empty account or op, a negative hold, timeout, slot count or
	// gap, an unknown fault, a nil context, a Server or Client not made by
	// Start or NewClient.
	ErrInvalid = errors.New("provider: invalid argument")
	// ErrConnection is wrapped by Client errors when no answer could be had
	// from the server: connection refused, reset or closed mid-answer. The
	// underlying network error is wrapped too.
	ErrConnection = errors.New("provider: connection failed")
	// ErrTimeout is wrapped by Client errors when the server did not answer
	// within the client's timeout (the caller's ctx had not ended).
	ErrTimeout = errors.New("provider: no answer within the timeout")
	// ErrStatus is wrapped by Client errors for a non-2xx answer;
	// errors.As with a *StatusError gives the status code and message.
	ErrStatus = errors.New("provider: error status")
	// ErrBadAnswer is wrapped by Client errors for a 2xx answer whose body
	// is not what the interface promises.
	ErrBadAnswer = errors.New("provider: malformed answer")

	// errNotMade is the error of the methods of a nil or zero Client.
	errNotMade = fmt.Errorf("%w: Client not made by NewClient", ErrInvalid)
	// errInjected is the message of a FaultStatus answer.
	errInjected = errors.New("provider: injected fault 500")
	// errShuttingDown is the message of a call cut short by Close.
	errShuttingDown = errors.New("provider: shutting down")
)

// StatusError is the error of a request that the server answered with a
// non-2xx status. It wraps ErrStatus.
type StatusError struct {
	Request string // the method and URL, such as "GET http://127.0.0.1:8765/report"
	Code    int    // the HTTP status code
	Message string // the server's error message, or the start of the body
}

// Error describes the request, the status and the server's message.
func (e *StatusError) Error() string {
	msg := fmt.Sprintf("provider: %s: status %d", e.Request, e.Code)
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// Unwrap returns ErrStatus.
func (e *StatusError) Unwrap() error { return ErrStatus }

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}
