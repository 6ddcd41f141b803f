package provider

// Outcome is the provider's answer to one call.
type Outcome string

// The outcomes of a call.
const (
	// OK: the account had room for the call (no other call in flight, or
	// fewer than the call's slots), and no rate was broken.
	OK Outcome = "ok"
	// Collision: the account already had as many calls in flight as the
	// call allows (one unless it asks for more slots). The call was still
	// counted and held.
	Collision Outcome = "collision"
	// RateViolation: the call did not collide, but it started less than
	// the min_gap it asks for after the account's previous start. It was
	// still counted and held. Only calls that ask for a min_gap get it.
	RateViolation Outcome = "rate_violation"
)

// Counts are the calls and the collisions and rate violations among them,
// of one account.
type Counts struct {
	Calls          int `json:"calls"`
	Collisions     int `json:"collisions"`
	RateViolations int `json:"rate_violations"`
}

// Report is the answer of GET /report: the counts since the last reset,
// in total and per account. Accounts holds only the accounts called since
// then; it is never nil in a Report this package returns. Faults are not
// calls and have no account.
type Report struct {
	Calls          int               `json:"calls"`
	Collisions     int               `json:"collisions"`
	RateViolations int               `json:"rate_violations"`
	Faults         int               `json:"faults"`
	Accounts       map[string]Counts `json:"accounts"`
}
