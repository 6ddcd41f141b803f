package postgres

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/perkey/perkey/scheduler"
)

// listen is the listener goroutine: on a connection of its own (not one of
// the pool's) it listens to the schema's channels and turns notifications
// into wake-ups, released waiters, cancelled tasks and events. When the
// connection breaks it connects again; meanwhile polling covers.
func (b *Backend) listen() {
	defer b.loops.Done()
	for b.life.Err() == nil {
		err := b.listenOnce()
		if b.life.Err() != nil {
			return
		}
		b.logFailure("listening (polling until it reconnects)", err)
		select {
		case <-b.life.Done():
			return
		case <-time.After(b.cfg.PollInterval):
		}
	}
}

func (b *Backend) listenOnce() error {
	cfg := b.pool.Config().ConnConfig.Copy()
	ctx, cancel := context.WithTimeout(b.life, max(b.cfg.Lease/4, time.Second))
	conn, err := pgx.ConnectConfig(ctx, cfg)
	cancel()
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		conn.Close(cctx)
		cancel()
	}()
	for _, ch := range []string{b.names.ready, b.names.done, b.names.cancel, b.names.events, b.names.listen} {
		if _, err := conn.Exec(b.life, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
			return err
		}
	}
	// Whatever was notified while nobody listened: look now.
	wake(b.wakeClaim)
	wake(b.wakeKeep)
	for {
		n, err := conn.WaitForNotification(b.life)
		if err != nil {
			return err
		}
		b.notified(n)
	}
}

// notified handles one notification.
func (b *Backend) notified(n *pgconn.Notification) {
	switch n.Channel {
	case b.names.ready:
		wake(b.wakeClaim)
	case b.names.done:
		b.waiters.finish(parseIDs(n.Payload))
	case b.names.cancel:
		ids := parseIDs(n.Payload)
		b.runMu.Lock()
		for _, id := range ids {
			if r, ok := b.running[id]; ok {
				r.cancel(scheduler.ErrReplaced)
			}
		}
		b.runMu.Unlock()
	case b.names.listen:
		// A process began to listen: publish from now on, not from the
		// next poll.
		b.publish.Store(true)
	case b.names.events:
		if b.host.Listening == nil || !b.host.Listening() {
			return
		}
		for _, line := range strings.Split(n.Payload, "\n") {
			if ev, ok := parseEvent(line); ok {
				b.host.Emit(ev)
			}
		}
	}
}

// parseIDs reads a done or cancel payload: ids, comma and newline
// separated.
func parseIDs(payload string) []uint64 {
	fields := strings.FieldsFunc(payload, func(r rune) bool { return r == ',' || r == '\n' })
	ids := make([]uint64, 0, len(fields))
	for _, f := range fields {
		if id, err := strconv.ParseUint(f, 10, 64); err == nil {
			ids = append(ids, id)
		}
	}
	return ids
}

// wireEvent is one line of the events channel (see the ev function of the
// schema).
type wireEvent struct {
	ID      uint64  `json:"i"`
	Task    string  `json:"t"`
	Key     string  `json:"k"`
	Label   *string `json:"l"`
	State   int     `json:"s"`
	At      int64   `json:"at"` // microseconds since the epoch, the database's clock
	Worker  *string `json:"w"`
	Err     *string `json:"e"`
	Kind    int16   `json:"x"`
	Deduped bool    `json:"d"`
}

func parseEvent(line string) (scheduler.Event, bool) {
	if line == "" {
		return scheduler.Event{}, false
	}
	var w wireEvent
	if err := json.Unmarshal([]byte(line), &w); err != nil {
		return scheduler.Event{}, false
	}
	ev := scheduler.Event{
		Time:    time.UnixMicro(w.At),
		Task:    w.Task,
		ID:      w.ID,
		Key:     w.Key,
		State:   scheduler.State(w.State),
		Deduped: w.Deduped,
	}
	if w.Label != nil {
		ev.Label = *w.Label
	}
	worker, text := "", ""
	if w.Worker != nil {
		worker = *w.Worker
	}
	if w.Err != nil {
		text = *w.Err
	}
	switch {
	case ev.Deduped:
	case ev.State == scheduler.Failed:
		ev.Err = &scheduler.RemoteError{Task: w.Task, ID: w.ID, Worker: worker, Message: text, Cause: failureCause(w.Kind)}
	case ev.State.Final() && ev.State != scheduler.Succeeded:
		ev.Err = finalError(ev.State, w.Kind, text)
	}
	ev.Worker = worker
	return ev, true
}
