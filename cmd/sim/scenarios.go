package main

import "time"

// The reference demo's accounts and operations.
func referenceAccounts() []string { return []string{"acme", "globex", "initech"} }
func referenceOps() []string {
	return []string{"fetch_profile", "list_invoices", "refresh_usage", "update_metadata"}
}

// scenario is one row of the demo: what it submits, to which task, and
// what the reference says must come out. New scenarios are new rows of
// scenarioTable.
type scenario struct {
	letter  string   // "A"
	label   string   // the task options in perkey's names
	task    taskKind // the task its calls are submitted to
	plan    []call   // the submissions, in order
	guarded bool     // a collision fails the run
	want    expect   // the reference's counts

	// serialPerKey is how many calls of one key must run one after the
	// other, for the physical bound; 0 when nothing is serial.
	serialPerKey int
}

// expect are the counts a scenario must reproduce.
type expect struct {
	calls, dropped, deduped int
}

// scenarioTable returns the demo's scenarios, in order.
func scenarioTable() []scenario {
	accounts := referenceAccounts()
	each := callsEach(accounts, referenceOps())
	return []scenario{
		{
			letter: "A", label: "unsafe — no concurrency control",
			task: unsafeTask, plan: each,
			want: expect{calls: len(each)},
		},
		{
			letter: "B", label: "keyed — Running=ByKey(account), OnBusy=Wait",
			task: keyedWaitTask, plan: each, guarded: true,
			want:         expect{calls: len(each)},
			serialPerKey: len(each) / len(accounts),
		},
		{
			letter: "C", label: "drop — Running=ByKey(account), OnBusy=Drop",
			task: keyedDropTask, plan: each, guarded: true,
			want:         expect{calls: len(accounts), dropped: len(each) - len(accounts)},
			serialPerKey: 1,
		},
		{
			letter: "D", label: "dedupe — Registration=ByKey(account) + Running=ByKey(account), Dedupe=UntilDone",
			task: refreshTask, plan: refreshes(accounts, 8), guarded: true,
			want:         expect{calls: len(accounts), deduped: 8*len(accounts) - len(accounts)},
			serialPerKey: 1,
		},
	}
}

// callsEach returns one call per account and op, the accounts interleaved:
// every op for every account, op by op.
func callsEach(accounts, ops []string) []call {
	var plan []call
	for _, op := range ops {
		for _, a := range accounts {
			plan = append(plan, call{Account: a, Op: op})
		}
	}
	return plan
}

// refreshes returns n refresh_usage calls per account, interleaved.
func refreshes(accounts []string, n int) []call {
	var plan []call
	for range n {
		for _, a := range accounts {
			plan = append(plan, call{Account: a, Op: "refresh_usage"})
		}
	}
	return plan
}

// title is the scenario's header text, such as "B. keyed — ...", also the
// label of the provider's reset.
func (sc scenario) title() string { return sc.letter + ". " + sc.label }

// bound is the physical lower bound on the scenario's time: the calls that
// must run, in waves of parallel, and no fewer than serialPerKey holds.
func (sc scenario) bound(hold time.Duration, parallel int) time.Duration {
	waves := (sc.want.calls + parallel - 1) / parallel
	return time.Duration(max(waves, sc.serialPerKey)) * hold
}

// letters returns the letters of scenarios, in order.
func letters(scenarios []scenario) []string {
	var out []string
	for _, sc := range scenarios {
		out = append(out, sc.letter)
	}
	return out
}

// pick returns the scenarios named by letters, in that order.
func pick(table []scenario, names []string) []scenario {
	byLetter := map[string]scenario{}
	for _, sc := range table {
		byLetter[sc.letter] = sc
	}
	var out []scenario
	for _, l := range names {
		if sc, ok := byLetter[l]; ok {
			out = append(out, sc)
		}
	}
	return out
}
