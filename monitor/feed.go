package monitor

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// feed makes the streams' messages once for all streams: at most one
// frame per Interval/2, whoever asks first, each with the state and the
// events since the frame before, encoded as Server-Sent Events. A stream
// that is in step writes the frames' bytes as they are; only a stream
// that starts, or has fallen more than a few frames behind, gets a batch
// of its own.
type feed struct {
	mu      sync.Mutex
	recent  []*frame     // the latest frames, oldest first; at most keptFrames
	state   State        // the state of the latest frame, for change detection
	stateAt time.Time    // when the state last changed, or a heartbeat was due
	made    int          // frames made, for tests
	own     atomic.Int64 // batches encoded for one stream, for tests
}

// keptFrames is how many frames a stream may fall behind and still be
// sent the shared ones.
const keptFrames = 8

// frame is one shared message set.
type frame struct {
	at       time.Time
	from     uint64 // the events in (from, last]
	last     uint64
	events   []byte // the "events" message; nil when there are none
	state    []byte // the "state" message
	stateVer int    // changes when the state does (or a heartbeat is due)
}

// heartbeat is how often the state is sent even if nothing changed: it
// keeps idle connections alive through proxies, and the page's clock in
// step with the server's.
const heartbeat = 15 * time.Second

// current returns the latest frame, making a new one if the latest is
// Interval/2 old or more.
func (f *feed) current(m *Monitor, now time.Time) *frame {
	if fr := f.fresh(m, now); fr != nil {
		return fr
	}
	// Taking the state may walk the keys (see keyCache): not under f.mu.
	st := m.currentState()
	f.mu.Lock()
	defer f.mu.Unlock()
	var prev *frame
	if n := len(f.recent); n > 0 {
		prev = f.recent[n-1]
		if now.Sub(prev.at) < m.cfg.Interval/2 {
			return prev // made meanwhile
		}
	}
	// The state is encoded afresh for every frame, so that its clock is
	// that of the frame; streams send it when its version changes.
	fr := &frame{at: now, state: sseMessage("state", 0, st)}
	switch {
	case prev == nil:
		fr.stateVer, f.stateAt = 1, now
	case changed(f.state, st) || now.Sub(f.stateAt) >= heartbeat:
		fr.stateVer, f.stateAt = prev.stateVer+1, now
	default:
		fr.stateVer = prev.stateVer
	}
	f.state = st
	after := uint64(0)
	if prev != nil {
		after = prev.last
	}
	b := m.since(after, 0)
	if b.Reset || prev == nil {
		// A new watch (or the first frame): streams start over from
		// their own batches.
		f.recent = f.recent[:0]
		fr.from = b.Last
		if len(b.Events) > 0 {
			fr.from = b.Events[0].Seq - 1
		}
	} else {
		fr.from = after
	}
	fr.last = b.Last
	if len(b.Events) > 0 || b.Missed > 0 {
		fr.events = sseMessage("events", b.Last, b)
	}
	if len(f.recent) == keptFrames {
		copy(f.recent, f.recent[1:])
		f.recent = f.recent[:keptFrames-1]
	}
	f.recent = append(f.recent, fr)
	f.made++
	return fr
}

// fresh returns the latest frame if it is less than Interval/2 old.
func (f *feed) fresh(m *Monitor, now time.Time) *frame {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n := len(f.recent); n > 0 && now.Sub(f.recent[n-1].at) < m.cfg.Interval/2 {
		return f.recent[n-1]
	}
	return nil
}

// after returns the frames that follow Seq after, up to cur, if the feed
// still has them all; ok is false if it does not.
func (f *feed) after(after uint64, cur *frame) (frames []*frame, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, fr := range f.recent {
		if fr.from == after {
			for _, fr := range f.recent[i:] {
				frames = append(frames, fr)
				if fr == cur {
					return frames, true
				}
			}
			return nil, false
		}
	}
	return nil, false
}

// changed reports whether b differs from a in anything but the time.
func changed(a, b State) bool {
	if a.Stats != b.Stats || a.Slots != b.Slots || a.Streams != b.Streams || a.Sampled != b.Sampled ||
		a.Events.Last != b.Events.Last || a.Events.Watching != b.Events.Watching || a.Events.Since != b.Events.Since ||
		len(a.Keys) != len(b.Keys) || a.WorkersMore != b.WorkersMore {
		return true
	}
	return !slices.Equal(a.Keys, b.Keys) || !slices.Equal(a.Workers, b.Workers)
}

// sseMessage encodes one Server-Sent Events message; id 0 means none.
func sseMessage(event string, id uint64, v any) []byte {
	data, err := json.Marshal(v)
	if err != nil {
		// Only State and Batch are encoded, and they always encode.
		panic("monitor: encoding " + event + ": " + err.Error())
	}
	var b bytes.Buffer
	b.Grow(len(data) + 48)
	if id > 0 {
		b.WriteString("id: ")
		b.WriteString(strconv.FormatUint(id, 10))
		b.WriteByte('\n')
	}
	b.WriteString("event: ")
	b.WriteString(event)
	b.WriteString("\ndata: ")
	b.Write(data)
	b.WriteString("\n\n")
	return b.Bytes()
}
