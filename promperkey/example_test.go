package promperkey_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/perkey/perkey/promperkey"
	"github.com/perkey/perkey/scheduler"
)

// Mount the collector on a registry and serve it on /metrics, as a
// service would; here the scrape is made by hand.
func Example() {
	ctx := context.Background()
	s, _ := scheduler.New(scheduler.Config{MaxParallel: 2})
	reg := prometheus.NewRegistry()
	reg.MustRegister(promperkey.NewCollector(s, promperkey.Options{}))
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	task, _ := scheduler.NewTask(s, "sync_account",
		func(ctx context.Context, account string) (string, error) {
			return "synced " + account, nil // call the provider here
		},
		scheduler.Options[string]{
			Running: scheduler.ByKey,
			Key:     func(account string) string { return account },
		})
	var invs []*scheduler.Invocation[string]
	for _, account := range []string{"acme", "acme", "globex"} {
		inv, _ := task.Submit(ctx, account)
		invs = append(invs, inv)
	}
	for _, inv := range invs {
		_, _ = inv.Wait(ctx)
	}
	_ = s.Close(ctx)

	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	lines := bufio.NewScanner(resp.Body)
	for lines.Scan() {
		line := lines.Text()
		for _, name := range []string{`perkey_invocations_total{state="succeeded"`, "perkey_submitted_total", "perkey_slots ", "perkey_run_seconds_count"} {
			if strings.HasPrefix(line, name) {
				fmt.Println(line)
			}
		}
	}
	// Output:
	// perkey_invocations_total{state="succeeded",task="sync_account"} 3
	// perkey_run_seconds_count{task="sync_account"} 3
	// perkey_slots 2
	// perkey_submitted_total{task="sync_account"} 3
}
