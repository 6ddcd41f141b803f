package provider

import (
	"context"
	"net/http"
)

// Fault is a failure that a call asks the provider to inject instead of
// serving it, for tests of error handling (query parameter fault). A
// faulty call is counted in Report.Faults only: it is not a call, holds
// no account and never collides, so a client that gives up on it (or
// whose connection it closes) can call the account again at once. The
// zero Fault, NoFault, asks for none.
type Fault string

// The faults.
const (
	// NoFault: serve the call.
	NoFault Fault = ""
	// FaultStatus: answer 500 at once. Client methods return a
	// *StatusError (ErrStatus) with Code 500.
	FaultStatus Fault = "500"
	// FaultSlow: never answer; wait until the client gives up or the
	// server stops (Close, or Shutdown once its ctx ends). Client methods
	// return ErrTimeout after the call's hold plus the client's Timeout.
	FaultSlow Fault = "slow"
	// FaultClose: close the connection without an answer. Client methods
	// return ErrConnection.
	FaultClose Fault = "close"
)

// faultNames lists the faults for error messages.
const faultNames = "500, slow, close"

// valid reports whether f is NoFault or one of the faults.
func (f Fault) valid() bool {
	switch f {
	case NoFault, FaultStatus, FaultSlow, FaultClose:
		return true
	}
	return false
}

// serveFault counts a faulty call, logs it and injects its fault.
func (h *handler) serveFault(ctx context.Context, w http.ResponseWriter, account, op string, f Fault) {
	h.counts.fault(account, op, f)
	if h.faulted != nil {
		h.faulted(account)
	}
	switch f {
	case FaultStatus:
		writeError(w, http.StatusInternalServerError, errInjected)
	case FaultSlow:
		select {
		case <-ctx.Done(): // the client gave up: nobody reads an answer
		case <-h.quit:
			writeError(w, http.StatusServiceUnavailable, errShuttingDown)
		}
	case FaultClose:
		// net/http closes the connection without writing anything, and
		// reports it closed (ConnState) only once its goroutine is done,
		// so Close still joins every goroutine; a hijacked connection
		// would be reported before its goroutine ends.
		panic(http.ErrAbortHandler)
	}
}
