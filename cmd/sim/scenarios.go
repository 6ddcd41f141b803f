package main

import "fmt"

// The reference demo's accounts and operations.
func referenceAccounts() []string { return []string{"acme", "globex", "initech"} }
func referenceOps() []string {
	return []string{"fetch_profile", "list_invoices", "refresh_usage", "update_metadata"}
}

// E's accounts: one with a backlog, and ten with one call each.
const (
	whaleAccount = "whale"
	whaleCalls   = 40
	minnows      = 10
)

// scenarioTable returns the demo's scenarios, in order: the reference's
// A to D, then E to H, which go beyond it.
func scenarioTable() []scenario {
	accounts := referenceAccounts()
	each := callsEach(accounts, referenceOps())
	return []scenario{
		{
			letter: "A", label: "unsafe — no concurrency control",
			plan: on(unsafeTask, each),
			want: expect{calls: len(each)},
		},
		{
			letter: "B", label: "keyed — Running=ByKey(account), OnBusy=Wait",
			plan: on(keyedWaitTask, each), guarded: true,
			want:         expect{calls: len(each)},
			serialPerKey: len(each) / len(accounts),
		},
		{
			letter: "C", label: "drop — Running=ByKey(account), OnBusy=Drop",
			plan: on(keyedDropTask, each), guarded: true,
			want:         expect{calls: len(accounts), dropped: len(each) - len(accounts)},
			serialPerKey: 1,
		},
		{
			letter: "D", label: "dedupe — Registration=ByKey(account) + Running=ByKey(account), Dedupe=UntilDone",
			plan: on(refreshTask, refreshes(accounts, 8)), guarded: true,
			want:         expect{calls: len(accounts), deduped: 8*len(accounts) - len(accounts)},
			serialPerKey: 1,
		},
		noisyNeighbour(),
		nSlots(),
		ratePerAccount(),
		sharedKey(),
	}
}

// noisyNeighbour is E: the whale's backlog must not delay the minnows.
func noisyNeighbour() scenario {
	var plan []call
	ops := referenceOps()
	for i := range whaleCalls {
		plan = append(plan, call{Account: whaleAccount, Op: ops[i%len(ops)]})
	}
	for i := range minnows {
		plan = append(plan, call{Account: fmt.Sprintf("minnow%02d", i+1), Op: "fetch_profile"})
	}
	return scenario{
		letter: "E", label: fmt.Sprintf("noisy neighbour — Running=ByKey(account), OnBusy=Wait; %s submits %d calls, then %d minnows 1 each",
			whaleAccount, whaleCalls, minnows),
		plan: on(keyedWaitTask, plan), guarded: true,
		want:         expect{calls: len(plan)},
		holdDiv:      4,
		serialPerKey: whaleCalls,
		whale:        whaleAccount,
	}
}

// nSlots is F: Limit 2 against a provider that allows 2 calls per account.
func nSlots() scenario {
	accounts := referenceAccounts()
	ops := append(referenceOps(), referenceOps()...) // 8 ops per account
	return scenario{
		letter: "F", label: fmt.Sprintf("N slots — Running=ByKey(account), Limit=%d; the provider allows %d per account", slotsLimit, slotsLimit),
		plan: on(slotsTask, callsEach(accounts, ops)), guarded: true,
		want:         expect{calls: len(accounts) * len(ops)},
		slots:        slotsLimit,
		serialPerKey: (len(ops) + slotsLimit - 1) / slotsLimit,
		within:       0.02,
	}
}

// ratePerAccount is G: starts per account spaced by the rate.
func ratePerAccount() scenario {
	const perAccount = 10
	accounts := referenceAccounts()
	var ops []string
	for i := range perAccount {
		ops = append(ops, referenceOps()[i%len(referenceOps())])
	}
	return scenario{
		letter: "G", label: fmt.Sprintf("rate per key — Running=ByKey(account), Rate=%d/s, Burst=%d; the provider counts starts too close",
			ratePerKey, rateBurst),
		plan: on(ratedTask, callsEach(accounts, ops)), guarded: true,
		want:         expect{calls: len(accounts) * perAccount},
		holdDiv:      40,
		rated:        true,
		serialPerKey: perAccount,
		rateGaps:     perAccount - rateBurst,
		within:       0.05,
	}
}

// sharedKey is H: ops and refresh for the same accounts, first as two
// tasks with keys of their own (the reference's behaviour), then sharing
// keys through a Group.
func sharedKey() scenario {
	accounts := referenceAccounts()
	ops := referenceOps()
	// Each account's first op and its refresh first, so that they overlap
	// whenever two calls can run at once; then the other ops.
	plan := func(opsTask, refresh taskKind) []step {
		var out []step
		for _, a := range accounts {
			out = append(out, step{opsTask, call{Account: a, Op: ops[0]}}, step{refresh, call{Account: a, Op: "refresh_usage"}})
		}
		return append(out, on(opsTask, callsEach(accounts, ops[1:]))...)
	}
	return scenario{
		letter: "H", label: fmt.Sprintf("shared key — ops + refresh per account, Running=ByKey(account), Group=%q", accountGroup),
		baseline: plan(keyedWaitTask, refreshTask),
		plan:     plan(groupedOpsTask, groupedRefreshTask), guarded: true,
		want:         expect{calls: len(accounts) * (len(ops) + 1)},
		serialPerKey: len(ops) + 1,
	}
}

// on returns the plan that submits calls to task, in order.
func on(task taskKind, calls []call) []step {
	out := make([]step, len(calls))
	for i, c := range calls {
		out[i] = step{task: task, call: c}
	}
	return out
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
