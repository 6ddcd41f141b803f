package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/perkey/perkey/promperkey"
	"github.com/perkey/perkey/scheduler"
)

// metricsServer serves the Prometheus metrics of a -metrics run on
// /metrics: the scheduler's (package promperkey), counted from before the
// first scenario.
type metricsServer struct {
	srv  *http.Server
	url  string
	done chan struct{} // closed when the serve goroutine has returned
}

// startMetrics serves the metrics of s on addr, on a goroutine that close
// joins. The registry is the server's own, so that what it serves is
// perkey's series and nothing else.
func startMetrics(addr string, s *scheduler.Scheduler) (*metricsServer, error) {
	reg := prometheus.NewRegistry()
	if err := reg.Register(promperkey.NewCollector(s, promperkey.Options{})); err != nil {
		return nil, fmt.Errorf("-metrics: %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("-metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	m := &metricsServer{
		srv: &http.Server{
			Handler:           mux,
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          log.New(io.Discard, "", 0),
		},
		url:  "http://" + ln.Addr().String() + "/metrics",
		done: make(chan struct{}),
	}
	go func() {
		defer close(m.done)
		_ = m.srv.Serve(ln) // always an error; ErrServerClosed after Shutdown
	}()
	return m, nil
}

// close stops the server, waiting up to shutdownGrace for scrapes in
// flight, and joins its goroutine.
func (m *metricsServer) close() error { return stopServer("metrics", m.srv, m.done) }

// stopServer shuts srv down, waiting up to shutdownGrace for requests in
// flight and then closing what is left, and waits for done, closed when
// its serve goroutine has returned. Its error names what: "metrics: ...".
func stopServer(what string, srv *http.Server, done <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	err := srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = errors.Join(err, srv.Close())
	}
	<-done
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

func checkMetricsAddr(s string) error {
	if _, _, err := net.SplitHostPort(s); err != nil {
		return fmt.Errorf("-metrics %q: want an address such as 127.0.0.1:9100", s)
	}
	return nil
}
