package provider

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
)

// The mode tests run in synctest bubbles: arrivals and gaps are exact.

func TestSlotsMode(t *testing.T) {
	tests := []struct {
		name    string
		queries []string
		want    []Outcome
	}{
		{"default is one slot", []string{"", ""}, []Outcome{OK, Collision}},
		{"two slots, two calls", []string{"slots=2", "slots=2"}, []Outcome{OK, OK}},
		{"two slots, three calls", []string{"slots=2", "slots=2", "slots=2"}, []Outcome{OK, OK, Collision}},
		{"one slot asked while one is in flight", []string{"slots=2", "slots=1"}, []Outcome{OK, Collision}},
		{"more slots asked later", []string{"", "slots=3", "slots=3", "slots=3"}, []Outcome{OK, OK, OK, Collision}},
		{"five slots", []string{"slots=5", "slots=5", "slots=5", "slots=5", "slots=5"}, []Outcome{OK, OK, OK, OK, OK}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHandler(time.Second, callLog{})
				outs := make([]chan Outcome, len(tc.queries))
				for i, q := range tc.queries {
					outs[i] = make(chan Outcome, 1)
					go func() {
						outs[i] <- outcomeOf(t, serve(t.Context(), h, http.MethodPost, "/call/acme/op?"+q).Body.Bytes())
					}()
					synctest.Wait() // counted before the next arrives, all at t=0
				}
				require.Equal(t, map[string]int{"acme": len(tc.queries)}, h.counts.inFlightNow())
				collisions := 0
				for i, want := range tc.want {
					require.Equal(t, want, <-outs[i], "call %d", i)
					if want == Collision {
						collisions++
					}
				}
				rep := h.counts.report()
				require.Equal(t, Counts{Calls: len(tc.queries), Collisions: collisions}, rep.Accounts["acme"])
				require.Equal(t, collisions, rep.Collisions)
				require.Empty(t, h.counts.inFlightNow())
			})
		})
	}
}

// TestMinGapMode: calls one after the other at exact fake times; a call
// that asks for min_gap is a violation when the account's previous start
// (whatever that call asked) is closer than that.
func TestMinGapMode(t *testing.T) {
	type step struct {
		at      time.Duration // since the first call
		account string        // "": a reset
		query   string
		want    Outcome
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"spaced", []step{
			{0, "acme", "min_gap=190ms", OK},
			{200 * time.Millisecond, "acme", "min_gap=190ms", OK},
			{390 * time.Millisecond, "acme", "min_gap=190ms", OK},
		}},
		{"too soon", []step{
			{0, "acme", "min_gap=190ms", OK},
			{100 * time.Millisecond, "acme", "min_gap=190ms", RateViolation},
			{289 * time.Millisecond, "acme", "min_gap=190ms", RateViolation},
			{479 * time.Millisecond, "acme", "min_gap=190ms", OK},
		}},
		{"per account", []step{
			{0, "acme", "min_gap=1s", OK},
			{0, "globex", "min_gap=1s", OK},
			{10 * time.Millisecond, "initech", "min_gap=1s", OK},
			{20 * time.Millisecond, "globex", "min_gap=1s", RateViolation},
		}},
		{"calls without min_gap are never violations, but count as starts", []step{
			{0, "acme", "", OK},
			{1 * time.Millisecond, "acme", "", OK},
			{2 * time.Millisecond, "acme", "min_gap=5ms", RateViolation},
		}},
		{"the first call of an account has no previous start", []step{
			{0, "acme", "min_gap=1h", OK},
		}},
		{"reset forgets the starts", []step{
			{0, "acme", "", OK},
			{0, "", "", ""},
			{1 * time.Millisecond, "acme", "min_gap=1h", OK},
			{2 * time.Millisecond, "acme", "min_gap=1h", RateViolation},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHandler(time.Hour, callLog{})
				start := time.Now()
				want := Report{Accounts: map[string]Counts{}}
				for i, s := range tc.steps {
					time.Sleep(time.Until(start.Add(s.at))) // fake time: exact
					if s.account == "" {
						serve(t.Context(), h, http.MethodPost, "/reset")
						want = Report{Accounts: map[string]Counts{}}
						continue
					}
					rec := serve(t.Context(), h, http.MethodPost, "/call/"+s.account+"/op?hold=0s&"+s.query)
					require.Equal(t, s.want, outcomeOf(t, rec.Body.Bytes()), "step %d", i)
					c := want.Accounts[s.account]
					c.Calls++
					want.Calls++
					if s.want == RateViolation {
						c.RateViolations++
						want.RateViolations++
					}
					want.Accounts[s.account] = c
				}
				require.Equal(t, want, h.counts.report())
			})
		})
	}
}

// TestCollisionAndViolation: a call that both collides and comes too soon
// is answered collision and counted in both.
func TestCollisionAndViolation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var log bytes.Buffer
		h := newHandler(time.Second, callLog{w: &log})
		held := make(chan struct{})
		go func() {
			defer close(held)
			serve(t.Context(), h, http.MethodPost, "/call/acme/first")
		}()
		synctest.Wait()
		rec := serve(t.Context(), h, http.MethodPost, "/call/acme/second?min_gap=1s&hold=0s")
		require.Equal(t, Collision, outcomeOf(t, rec.Body.Bytes()))
		time.Sleep(100 * time.Millisecond)
		rec = serve(t.Context(), h, http.MethodPost, "/call/globex/only?min_gap=1s&hold=0s")
		require.Equal(t, OK, outcomeOf(t, rec.Body.Bytes()))
		time.Sleep(100 * time.Millisecond)
		rec = serve(t.Context(), h, http.MethodPost, "/call/globex/again?min_gap=1s&hold=0s")
		require.Equal(t, RateViolation, outcomeOf(t, rec.Body.Bytes()))
		<-held
		require.Equal(t, Report{Calls: 4, Collisions: 1, RateViolations: 2, Accounts: map[string]Counts{
			"acme":   {Calls: 2, Collisions: 1, RateViolations: 1},
			"globex": {Calls: 2, RateViolations: 1},
		}}, h.counts.report())
		require.Equal(t, ""+
			"[ok       ] acme     first\n"+
			"[COLLISION] acme     second\n"+
			"[ok       ] globex   only\n"+
			"[TOO SOON ] globex   again\n", log.String())
	})
}

// outcomeOf decodes the outcome of a call's answer.
func outcomeOf(t *testing.T, body []byte) Outcome {
	t.Helper()
	var ans callAnswer
	require.NoError(t, json.Unmarshal(body, &ans), "%s", body)
	return ans.Outcome
}
