package timeline

import (
	"testing"

	"github.com/perkey/perkey/scheduler"
)

// BenchmarkRecord: what recording costs an OnEvent hook. A dedupe of an
// invocation already kept allocates nothing, however many there are.
//
//	flock /tmp/perkey-cpu.lock go test -run '^$' -bench Record -benchmem ./timeline
func BenchmarkRecord(b *testing.B) {
	b.Run("event=dedupe", func(b *testing.B) {
		r, _ := New(Config{})
		r.Record(scheduler.Event{Time: at(0), Task: "t", ID: 1, Key: "acme", State: scheduler.Queued})
		ev := scheduler.Event{Time: at(1), Task: "t", ID: 1, Key: "acme", State: scheduler.Queued, Deduped: true}
		b.ReportAllocs()
		for b.Loop() {
			r.Record(ev)
		}
	})
	b.Run("event=new-invocation", func(b *testing.B) {
		r, _ := New(Config{MaxInvocations: 1 << 30})
		ev := scheduler.Event{Time: at(0), Task: "t", Key: "acme", Label: "op", State: scheduler.Queued}
		b.ReportAllocs()
		for b.Loop() {
			ev.ID++
			r.Record(ev)
		}
	})
}
