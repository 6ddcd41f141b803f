package provider

import (
	"net/url"
	"time"
)

// callParams are the query parameters of POST /call/{account}/{op}.
//
// Only hold exists now. Later provider modes (several calls in flight per
// account, calls per time window) add their parameter here, parse it in
// parseCallParams and decide in collides: the counting, the handler and
// the log stay as they are.
type callParams struct {
	hold time.Duration // how long the call holds its account
}

// parseCallParams reads the query of a call; absent parameters take their
// defaults. Unknown parameters are ignored, so that clients written for a
// later mode still get answers.
func parseCallParams(q url.Values, defaultHold time.Duration) (callParams, error) {
	p := callParams{hold: defaultHold}
	if q.Has("hold") {
		v := q.Get("hold")
		d, err := time.ParseDuration(v)
		switch {
		case err != nil:
			return p, invalid("hold %q is not a duration such as 400ms", v)
		case d < 0:
			return p, invalid("hold %q is negative", v)
		}
		p.hold = d
	}
	return p, nil
}

// collides reports whether a call that finds inFlight calls of its account
// in flight collides with them. The rule now: one call in flight at a time.
func (p callParams) collides(inFlight int) bool { return inFlight > 0 }
