package provider

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"
)

// handler serves the provider's HTTP interface (see the package doc).
type handler struct {
	mux         *http.ServeMux
	counts      *counts
	defaultHold time.Duration

	// quit is closed by stop: every hold ends at once, answered 503.
	quit     chan struct{}
	stopOnce sync.Once

	// Test seams, nil in production: called after a call is counted,
	// after its account is released, and after a faulty call is counted.
	arrived, released, faulted func(account string)
}

func newHandler(defaultHold time.Duration, log callLog) *handler {
	h := &handler{
		mux:         http.NewServeMux(),
		counts:      newCounts(log),
		defaultHold: defaultHold,
		quit:        make(chan struct{}),
	}
	h.mux.HandleFunc("POST /call/{account}/{op}", h.call)
	h.mux.HandleFunc("GET /report", h.report)
	h.mux.HandleFunc("POST /reset", h.reset)
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// stop ends every hold now and makes later calls end at once.
func (h *handler) stop() { h.stopOnce.Do(func() { close(h.quit) }) }

// callAnswer is the body of a call's answer.
type callAnswer struct {
	Outcome Outcome `json:"outcome"`
}

func (h *handler) call(w http.ResponseWriter, r *http.Request) {
	account, op := r.PathValue("account"), r.PathValue("op")
	if account == "" || op == "" {
		writeError(w, http.StatusBadRequest, invalid("empty account or op"))
		return
	}
	p, err := parseCallParams(r.URL.Query(), h.defaultHold)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	if p.fault != NoFault {
		h.serveFault(r.Context(), w, account, op, p.fault)
		return
	}
	out, cut := h.serveCall(r.Context(), account, op, p)
	switch {
	case r.Context().Err() != nil:
		// The client is gone: nobody reads an answer.
	case cut:
		writeError(w, http.StatusServiceUnavailable, errShuttingDown)
	default:
		writeJSON(w, http.StatusOK, callAnswer{Outcome: out})
	}
}

// serveCall counts a call, holds its account and releases it, before the
// answer is written: a client that has its answer may call again at once
// without colliding with itself. It reports whether the hold was cut short
// by the client leaving or by stop.
func (h *handler) serveCall(ctx context.Context, account, op string, p callParams) (Outcome, bool) {
	out := h.counts.begin(account, op, p)
	defer func() {
		h.counts.end(account)
		if h.released != nil {
			h.released(account)
		}
	}()
	if h.arrived != nil {
		h.arrived(account)
	}
	return out, h.hold(ctx, p.hold)
}

// hold waits d, and reports whether ctx or stop cut it short.
func (h *handler) hold(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return false
	case <-ctx.Done():
		return true
	case <-h.quit:
		return true
	}
}

func (h *handler) report(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, h.counts.report())
}

func (h *handler) reset(w http.ResponseWriter, r *http.Request) {
	h.counts.reset(r.URL.Query().Get("label"))
	w.WriteHeader(http.StatusNoContent)
}

// errorAnswer is the body of a non-2xx answer.
type errorAnswer struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, code int, err error) {
	writeJSON(w, code, errorAnswer{Error: err.Error()})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	body, err := json.Marshal(v)
	if err != nil { // cannot happen for this package's types
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(append(body, '\n'))
}
