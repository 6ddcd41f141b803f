package timeline

import (
	"context"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/perkey/perkey/scheduler"
)

type call struct{ Account, Op string }

// TestRecordScheduler records a real scheduler, on a fake clock, through
// Subscribe: keyed wait, keyed drop and dedupe, as in the demo's B, C and
// D.
func TestRecordScheduler(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		rec, err := New(Config{})
		require.NoError(t, err)
		s, err := scheduler.New(scheduler.Config{MaxParallel: 8})
		require.NoError(t, err)
		defer func() { require.NoError(t, s.Close(ctx)) }()
		defer s.Subscribe(rec.Record)()

		key := func(c call) string { return c.Account }
		op := func(c call) string { return c.Op }
		hold := func(ctx context.Context, c call) (string, error) {
			time.Sleep(400 * time.Millisecond) // the provider's hold, on the fake clock
			return c.Op, nil
		}
		accounts := []string{"acme", "globex", "initech"}
		ops := []string{"fetch_profile", "list_invoices", "refresh_usage", "update_metadata"}
		tests := []struct {
			name   string
			opts   scheduler.Options[call]
			ops    []string
			bars   int
			states map[string]int
			dedup  int
			dur    string
		}{
			{"B", scheduler.Options[call]{Running: scheduler.ByKey, Key: key, Label: op}, ops,
				12, map[string]int{"succeeded": 12}, 0, "1.6s"},
			{"C", scheduler.Options[call]{Running: scheduler.ByKey, OnBusy: scheduler.Drop, Key: key, Label: op}, ops,
				12, map[string]int{"succeeded": 3, "dropped": 9}, 0, "400ms"},
			{"D", scheduler.Options[call]{Registration: scheduler.ByKey, Running: scheduler.ByKey, Dedupe: scheduler.UntilDone,
				Key: key, Label: op}, []string{"r", "r", "r", "r", "r", "r", "r", "r"},
				3, map[string]int{"succeeded": 3}, 21, "400ms"},
		}
		for _, tc := range tests {
			task, err := scheduler.NewTask(s, tc.name, hold, tc.opts)
			require.NoError(t, err)
			rec.Section(tc.name)
			var invs []*scheduler.Invocation[string]
			for _, o := range tc.ops {
				for _, a := range accounts {
					inv, err := task.Submit(ctx, call{a, o})
					require.NoError(t, err)
					invs = append(invs, inv)
				}
			}
			for _, inv := range invs {
				<-inv.Done()
			}
			synctest.Wait() // the dedupe events, delivered by the dispatcher
		}

		p := render(t, rec)
		require.Len(t, p.sections, len(tests))
		for i, tc := range tests {
			sec := p.sections[i]
			require.Equal(t, tc.name, sec.title)
			require.Len(t, sec.lanes, 3, tc.name)
			bars, states, dedupes := 0, map[string]int{}, 0
			for li, ln := range sec.lanes {
				require.Equal(t, accounts[li], ln.key)
				bars += len(ln.bars)
				require.LessOrEqual(t, len(ln.dedupes), 2*len(ln.bars), "at most the first and the last dedupe of a bar")
				for _, text := range ln.texts {
					dedupes += atoi(strings.TrimSuffix(strings.TrimPrefix(text, "+"), " deduped"))
				}
				for _, b := range ln.bars {
					states[b.state]++
					require.Len(t, b.marks, 1)
				}
			}
			require.Equal(t, tc.bars, bars, tc.name)
			require.Equal(t, tc.states, states, tc.name)
			require.Equal(t, tc.dedup, dedupes, tc.name)
			require.Contains(t, sec.counts, "; "+tc.dur+" from first to last event", tc.name)
		}
		// B: four serial runs per account, one row each.
		for _, ln := range p.sections[0].lanes {
			require.Equal(t, 4, ln.rows)
		}
	})
}
