package provider

import (
	"net/url"
	"strconv"
	"time"
)

// CallOptions are the provider mode of one call, sent as the query
// parameters of POST /call/{account}/{op}; durations go as decimal
// seconds (hold=0.4), the form that both this package's Server and the
// reference's provider accept. The zero CallOptions is a plain call: the
// provider's default hold, one call in flight per account, no rate check,
// no fault.
type CallOptions struct {
	// Hold is how long the provider holds the account (hold). Zero leaves
	// it to the provider (400ms for a Server with the default Config);
	// negative is an error.
	Hold time.Duration

	// Slots is how many calls of the account may be in flight at once,
	// this one included, before this one counts as a collision (slots).
	// Zero means 1; negative is an error.
	Slots int

	// MinGap makes the provider count a rate violation when this call
	// starts less than MinGap after the previous call for the account
	// started, since the last reset (min_gap). Zero means no check;
	// negative is an error.
	MinGap time.Duration

	// Fault asks the provider to fail the call instead of serving it
	// (fault); see Fault. NoFault, the zero value, asks for none; a value
	// that is not one of the constants is an error.
	Fault Fault
}

// validate reports the first bad field.
func (o CallOptions) validate() error {
	switch {
	case o.Hold < 0:
		return invalid("call: hold %v is negative", o.Hold)
	case o.Slots < 0:
		return invalid("call: slots %d is negative", o.Slots)
	case o.MinGap < 0:
		return invalid("call: min gap %v is negative", o.MinGap)
	case !o.Fault.valid():
		return invalid("call: fault %q: want one of %s, or none", o.Fault, faultNames)
	}
	return nil
}

// query returns the query string that asks for o; zero fields are left
// out.
func (o CallOptions) query() string {
	q := url.Values{}
	if o.Hold > 0 {
		q.Set("hold", decimalSecondsOf(o.Hold))
	}
	if o.Slots > 1 {
		q.Set("slots", strconv.Itoa(o.Slots))
	}
	if o.MinGap > 0 {
		q.Set("min_gap", decimalSecondsOf(o.MinGap))
	}
	if o.Fault != NoFault {
		q.Set("fault", string(o.Fault))
	}
	return q.Encode()
}

// wait is how long the provider may take to answer beyond the client's
// timeout: the hold asked for, or the provider's default.
func (o CallOptions) wait() time.Duration {
	if o.Hold == 0 {
		return DefaultHold
	}
	return o.Hold
}

// decimalSecondsOf formats d, zero or more, as a decimal number of seconds
// without an exponent, such as 0.4 for 400ms or 0.000001 for 1µs: the
// form a provider that reads a float takes, and that parseGap reads back
// to the same nanosecond (for durations below about 100 days, 2^53ns).
func decimalSecondsOf(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}
