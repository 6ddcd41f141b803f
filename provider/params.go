package provider

import (
	"net/url"
	"strconv"
	"time"
)

// callParams are the query parameters of POST /call/{account}/{op}: the
// provider mode the call asks for.
type callParams struct {
	hold   time.Duration // how long the call holds its account
	slots  int           // calls of the account allowed in flight, this one included
	minGap time.Duration // a start closer than this to the account's previous start is a rate violation; 0: no check
	fault  Fault         // a failure to inject instead of serving the call; "": none
}

// parseCallParams reads the query of a call; absent parameters take their
// defaults. Unknown parameters are ignored, so that clients written for a
// later mode still get answers; a known parameter with a bad value is an
// error (ErrInvalid) that names it.
func parseCallParams(q url.Values, defaultHold time.Duration) (callParams, error) {
	p := callParams{hold: defaultHold, slots: 1}
	var err error
	if q.Has("hold") {
		if p.hold, err = parseGap("hold", q.Get("hold")); err != nil {
			return p, err
		}
	}
	if q.Has("slots") {
		v := q.Get("slots")
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return p, invalid("slots %q is not a whole number of at least 1", v)
		}
		p.slots = n
	}
	if q.Has("min_gap") {
		if p.minGap, err = parseGap("min_gap", q.Get("min_gap")); err != nil {
			return p, err
		}
	}
	if q.Has("fault") {
		f := Fault(q.Get("fault"))
		if !f.valid() || f == NoFault {
			return p, invalid("fault %q: want one of %s", f, faultNames)
		}
		p.fault = f
	}
	return p, nil
}

// parseGap parses the duration v of the parameter name, zero or more.
func parseGap(name, v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	switch {
	case err != nil:
		return 0, invalid("%s %q is not a duration such as 400ms", name, v)
	case d < 0:
		return 0, invalid("%s %q is negative", name, v)
	}
	return d, nil
}

// collides reports whether a call that finds inFlight calls of its account
// in flight collides with them: it would be one more than slots.
func (p callParams) collides(inFlight int) bool { return inFlight >= max(p.slots, 1) }

// tooSoon reports whether a call starting gap after the previous start of
// its account breaks the rate it asks for.
func (p callParams) tooSoon(gap time.Duration) bool { return p.minGap > 0 && gap < p.minGap }
