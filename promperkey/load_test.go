package promperkey_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/perkey/perkey/promperkey"
	"github.com/perkey/perkey/scheduler"
)

// TestUnderLoad runs a mix of tasks and outcomes from several submitters
// while a scraper checks what holds at every instant (no gauge below zero,
// no task with more final invocations than submissions); once all is
// final, every figure is checked exactly against the submitters' own
// counts and the scheduler's Stats.
func TestUnderLoad(t *testing.T) {
	const (
		submitters = 4
		perWorker  = 2000
		keys       = 16
	)
	s := newScheduler(t, scheduler.Config{MaxParallel: 4})
	c := promperkey.NewCollector(s, promperkey.Options{})
	names := []string{"wait", "drop", "dedupe", "free"}
	tasks := map[string]*scheduler.Task[job, struct{}]{
		"wait":   newTask(t, s, "wait", scheduler.Options[job]{Running: scheduler.ByKey}),
		"drop":   newTask(t, s, "drop", scheduler.Options[job]{Running: scheduler.ByKey, OnBusy: scheduler.Drop}),
		"dedupe": newTask(t, s, "dedupe", scheduler.Options[job]{Running: scheduler.ByKey, Registration: scheduler.ByKey}),
		"free":   newTask(t, s, "free", scheduler.Options[job]{}),
	}

	stopScraping := make(chan struct{})
	var scraper sync.WaitGroup
	scrapes := 0
	scraper.Go(func() {
		for {
			select {
			case <-stopScraping:
				return
			default:
			}
			got, err := samples(c)
			if !assert.NoError(t, err) {
				return
			}
			scrapes++
			for series, v := range got {
				assert.GreaterOrEqual(t, v, 0.0, series)
			}
			for _, name := range names {
				// perkey_invocations_total is collected before
				// perkey_submitted_total, and an invocation is counted
				// submitted before it is counted final.
				assert.LessOrEqual(t, finals(got, name), got[fmt.Sprintf("perkey_submitted_total{task=%q}", name)], name)
			}
		}
	})

	type submission struct {
		task string
		inv  *scheduler.Invocation[struct{}]
	}
	var (
		mu   sync.Mutex
		subs []submission
		wg   sync.WaitGroup
	)
	for w := range submitters {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			var mine []submission
			for range perWorker {
				name := names[rng.IntN(len(names))]
				j := job{Key: fmt.Sprint("k", rng.IntN(keys))}
				if rng.IntN(5) == 0 {
					j.Err = errors.New("boom")
				}
				inv, err := tasks[name].Submit(context.Background(), j)
				if !assert.NoError(t, err) {
					return
				}
				mine = append(mine, submission{name, inv})
			}
			mu.Lock()
			subs = append(subs, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()

	// What the submitters saw: submissions, and the final state of each
	// distinct invocation, per task.
	wantCounts := map[string]map[string]float64{}
	for _, n := range names {
		wantCounts[n] = map[string]float64{}
	}
	seen := map[*scheduler.Invocation[struct{}]]bool{}
	for _, sub := range subs {
		w := wantCounts[sub.task]
		w["submitted"]++
		if seen[sub.inv] {
			w["deduped"]++
			continue
		}
		seen[sub.inv] = true
		_, _ = sub.inv.Wait(context.Background())
		st := sub.inv.State()
		w[stateName(st)]++
		if st == scheduler.Succeeded || st == scheduler.Failed {
			w["wait"]++
			w["run"]++
		}
	}
	close(stopScraping)
	scraper.Wait()
	require.Len(t, subs, submitters*perWorker)

	got := scrape(t, c)
	for _, n := range names {
		require.Equal(t, want(n, wantCounts[n]), taskSeries(got, n), n)
	}
	// The collector came first: its totals are the scheduler's.
	st := s.Stats()
	total := func(short string) float64 {
		sum := 0.0
		for _, n := range names {
			sum += wantCounts[n][short]
		}
		return sum
	}
	require.Equal(t, float64(st.Submitted), total("submitted"))
	require.Equal(t, float64(st.Deduped), total("deduped"))
	require.Equal(t, float64(st.Succeeded), total("succeeded"))
	require.Equal(t, float64(st.Failed), total("failed"))
	require.Equal(t, float64(st.Dropped), total("dropped"))
	require.Positive(t, total("dropped"))
	require.Positive(t, total("deduped"))
	require.Positive(t, total("failed"))
	t.Logf("%d scrapes during the run", scrapes)
}

// finals sums perkey_invocations_total of task over the final states.
func finals(got map[string]float64, task string) float64 {
	sum := 0.0
	for _, st := range []string{"succeeded", "failed", "dropped", "expired", "canceled"} {
		sum += got[fmt.Sprintf("perkey_invocations_total{state=%q,task=%q}", st, task)]
	}
	return sum
}

// stateName is a final state's label value.
func stateName(st scheduler.State) string {
	return map[scheduler.State]string{
		scheduler.Succeeded: "succeeded", scheduler.Failed: "failed", scheduler.Dropped: "dropped",
		scheduler.Expired: "expired", scheduler.Canceled: "canceled",
	}[st]
}
