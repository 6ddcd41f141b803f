package provider

import (
	"errors"
	"math"
	"net/url"
	"regexp"
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

// parseGap parses the value v of the parameter name: a Go duration such
// as 400ms, or a bare decimal number of seconds such as 0.4, the form the
// reference's provider takes (`hold: float`). It must be zero or more, and
// fit a time.Duration (about 292 years).
func parseGap(name, v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil && decimalSeconds.MatchString(v) {
		d, err = parseSeconds(name, v)
		if err != nil {
			return 0, err
		}
	}
	switch {
	case err != nil:
		return 0, invalid("%s %q is not a duration such as 400ms or a number of seconds such as 0.4", name, v)
	case d < 0:
		return 0, invalid("%s %q is negative", name, v)
	}
	return d, nil
}

// decimalSeconds matches a bare decimal number, such as 0.4, 2, .5 or
// 1e-3: no hexadecimal, no Inf or NaN, no spaces.
var decimalSeconds = regexp.MustCompile(`^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$`)

// parseSeconds reads v, a decimal number of seconds that decimalSeconds
// matched, to the nearest nanosecond.
func parseSeconds(name, v string) (time.Duration, error) {
	f, err := strconv.ParseFloat(v, 64)
	ns := math.Round(f * float64(time.Second))
	switch {
	case err != nil && !errors.Is(err, strconv.ErrRange), math.IsNaN(f):
		return 0, invalid("%s %q is not a number of seconds", name, v)
	case ns < 0:
		return 0, invalid("%s %q is negative", name, v)
	case ns >= math.MaxInt64: // float64(MaxInt64) rounds up to 2^63
		return 0, invalid("%s %q seconds is too long for a duration", name, v)
	}
	return time.Duration(ns), nil
}

// collides reports whether a call that finds inFlight calls of its account
// in flight collides with them: it would be one more than slots.
func (p callParams) collides(inFlight int) bool { return inFlight >= max(p.slots, 1) }

// tooSoon reports whether a call starting gap after the previous start of
// its account breaks the rate it asks for.
func (p callParams) tooSoon(gap time.Duration) bool { return p.minGap > 0 && gap < p.minGap }
