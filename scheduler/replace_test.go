package scheduler_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"

	. "github.com/perkey/perkey/scheduler"
)

// Replace with a Limit above 1: the new invocation waits Queued until the
// one it replaced has returned, however long that one takes to wind down,
// so a Replace task never has two invocations of one key running at once.
func TestReplaceWaitsForTheReplacedToReturn(t *testing.T) {
	for _, limit := range []int{1, 2, 3} {
		t.Run("Limit "+strconv.Itoa(limit), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := newScheduler(t, Config{})
				var (
					mu                  sync.Mutex
					inFlight, maxFlight int // counted by the task itself
				)
				windDown := make(chan struct{}) // the replaced call returns once this closes
				endWindDown := sync.OnceFunc(func() { close(windDown) })
				t.Cleanup(endWindDown) // before Close, even on failure
				task, err := NewTask(s, "sync", func(ctx context.Context, n int) (int, error) {
					mu.Lock()
					inFlight++
					maxFlight = max(maxFlight, inFlight)
					mu.Unlock()
					defer func() {
						mu.Lock()
						inFlight--
						mu.Unlock()
					}()
					if n == 1 {
						<-ctx.Done()
						<-windDown
						return 0, ctx.Err()
					}
					return n, nil
				}, Options[int]{Running: ByKey, Key: func(int) string { return "acme" }, OnBusy: Replace, Limit: limit})
				require.NoError(t, err)

				first, err := task.Submit(context.Background(), 1)
				require.NoError(t, err)
				synctest.Wait()
				require.Equal(t, Running, first.State())
				second, err := task.Submit(context.Background(), 2)
				require.NoError(t, err)
				third, err := task.Submit(context.Background(), 3)
				require.NoError(t, err)
				synctest.Wait()
				require.Equal(t, Running, first.State(), "winding down")
				requireFinal(t, second, Canceled, ErrReplaced)
				require.Equal(t, Queued, third.State(), "waits for the replaced call to return")
				require.Equal(t, KeyStats{Task: "sync", Key: "acme", Queued: 1, Running: 1}, s.Key("sync", "acme"))

				endWindDown()
				out, err := third.Wait(context.Background())
				require.NoError(t, err)
				require.Equal(t, 3, out)
				requireFinal(t, first, Canceled, ErrCanceled, ErrReplaced)
				require.Equal(t, 1, maxFlight, "the replacing call ran while the replaced one still did")
			})
		})
	}
}

// In a Group, Replace leaves the other tasks alone: a Wait task's
// invocation queued ahead of the replacing one still starts when the Limit
// allows, while the replacing one waits for the replaced one.
func TestReplaceInGroupWaitsOnlyForItsOwn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScheduler(t, Config{})
		windDown := make(chan struct{})
		release := make(chan struct{})
		key := func(int) string { return "acme" }
		replace, err := NewTask(s, "replace", func(ctx context.Context, n int) (int, error) {
			if n == 1 {
				<-ctx.Done()
				<-windDown
				return 0, ctx.Err()
			}
			return n, nil
		}, Options[int]{Running: ByKey, Key: key, OnBusy: Replace, Limit: 2, Group: "g"})
		require.NoError(t, err)
		other, err := NewTask(s, "other", func(context.Context, int) (int, error) { <-release; return 0, nil },
			Options[int]{Running: ByKey, Key: key, Limit: 2, Group: "g"})
		require.NoError(t, err)

		first, err := replace.Submit(context.Background(), 1)
		require.NoError(t, err)
		synctest.Wait()
		newer, err := replace.Submit(context.Background(), 2) // first winds down
		require.NoError(t, err)
		synctest.Wait()
		require.Equal(t, Queued, newer.State())
		behind, err := other.Submit(context.Background(), 0) // FIFO: behind newer
		require.NoError(t, err)
		synctest.Wait()
		require.Equal(t, Queued, behind.State(), "FIFO per key: behind the replacing call")

		close(windDown)
		_, err = newer.Wait(context.Background())
		require.NoError(t, err)
		synctest.Wait()
		require.Equal(t, Running, behind.State())
		close(release)
		_, err = behind.Wait(context.Background())
		require.NoError(t, err)
		requireFinal(t, first, Canceled, ErrReplaced)
	})
}

// BenchmarkReplaceSubmit measures what a Replace submission costs the
// dispatcher when its key already holds a deep queue of another task's
// work (a Group): each op is 2,000 Replace submissions to that key, then a
// round trip through the dispatcher so that all of them were handled. The
// cost must not grow with the depth.
func BenchmarkReplaceSubmit(b *testing.B) {
	const perOp = 2000
	for _, depth := range []int{0, 100_000} {
		b.Run("depth="+strconv.Itoa(depth), func(b *testing.B) {
			s, err := New(Config{MaxParallel: 1})
			require.NoError(b, err)
			gate := make(chan struct{})
			key := func(int) string { return "k" }
			hold, err := NewTask(s, "hold", func(context.Context, int) (int, error) { <-gate; return 0, nil },
				Options[int]{Running: ByKey, Key: key, Group: "g"})
			require.NoError(b, err)
			replace, err := NewTask(s, "replace", func(context.Context, int) (int, error) { return 0, nil },
				Options[int]{Running: ByKey, Key: key, Group: "g", OnBusy: Replace})
			require.NoError(b, err)
			for i := range depth + 1 { // one runs, depth wait behind it
				_, err := hold.Submit(context.Background(), i)
				require.NoError(b, err)
			}
			require.Equal(b, depth, s.Key("hold", "k").Queued)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				for i := range perOp {
					_, err := replace.Submit(context.Background(), i)
					if err != nil {
						b.Fatal(err)
					}
				}
				_ = s.Key("replace", "k") // a round trip: every submission was handled
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*perOp), "ns/submit")
			b.StopTimer()
			close(gate)
			require.NoError(b, s.Close(context.Background()))
		})
	}
}
