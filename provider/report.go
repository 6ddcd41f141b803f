package provider

// Outcome is the provider's answer to one call.
type Outcome string

// The outcomes of a call.
const (
	// OK: the account had no other call in flight.
	OK Outcome = "ok"
	// Collision: another call for the same account was in flight when this
	// one arrived. The call was still counted and held.
	Collision Outcome = "collision"
)

// Counts are the calls and the collisions among them, of one account or of
// all of them.
type Counts struct {
	Calls      int `json:"calls"`
	Collisions int `json:"collisions"`
}

// Report is the answer of GET /report: the counts since the last reset,
// in total and per account. Accounts holds only the accounts called since
// then; it is never nil in a Report this package returns.
type Report struct {
	Calls      int               `json:"calls"`
	Collisions int               `json:"collisions"`
	Accounts   map[string]Counts `json:"accounts"`
}
