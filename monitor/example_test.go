package monitor_test

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/perkey/perkey/monitor"
	"github.com/perkey/perkey/scheduler"
)

// Mount the monitor in a service's mux, as one mounts pprof; browse to
// /debug/perkey/ for the live page. Here state.json is read in-process.
func Example() {
	s, _ := scheduler.New(scheduler.Config{MaxParallel: 4})
	defer s.Close(context.Background())

	mux := http.NewServeMux()
	mux.Handle("/debug/perkey/", http.StripPrefix("/debug/perkey", monitor.Handler(s)))

	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/debug/perkey/state.json", nil))
	var st monitor.State
	_ = json.Unmarshal(w.Body.Bytes(), &st)
	fmt.Println(w.Code, st.Slots.Used, "of", st.Slots.Max, "slots in use,", st.Stats.Submitted, "submitted")
	// Output: 200 0 of 4 slots in use, 0 submitted
}

// Mount the monitor behind the service's own authentication: here a
// bearer token checked in constant time; in a real service, the same
// middleware that guards its other admin pages. OmitErrors keeps the
// tasks' error text off the wire.
func Example_behindAuth() {
	s, _ := scheduler.New(scheduler.Config{})
	defer s.Close(context.Background())
	mon, _ := monitor.New(s, monitor.Config{OmitErrors: true})
	defer mon.Close()

	const token = "s3cr3t" // from the service's configuration, never in code
	requireAdmin := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="perkey"`)
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	mux := http.NewServeMux()
	mux.Handle("/debug/perkey/", requireAdmin(http.StripPrefix("/debug/perkey", mon)))

	for _, auth := range []string{"", "Bearer s3cr3t"} {
		req := httptest.NewRequest(http.MethodGet, "/debug/perkey/state.json", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, req)
		fmt.Println(w.Code)
	}
	// Output:
	// 401
	// 200
}
