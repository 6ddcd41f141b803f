package monitor_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"

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
