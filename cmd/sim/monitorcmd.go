package main

import (
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/perkey/perkey/monitor"
	"github.com/perkey/perkey/scheduler"
)

// monitorServer serves the live monitor of a -monitor run.
type monitorServer struct {
	mon     *monitor.Monitor
	srv     *http.Server
	url     string
	warning string        // exposedWarning of the address it listens on
	done    chan struct{} // closed when the serve goroutine has returned
}

// startMonitor serves the monitor of s on addr, on a goroutine that close
// joins.
func startMonitor(addr string, s *scheduler.Scheduler) (*monitorServer, error) {
	mon, err := monitor.New(s, monitor.Config{})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("-monitor: %w", err)
	}
	m := &monitorServer{
		mon: mon,
		srv: &http.Server{
			Handler:           mon,
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          log.New(io.Discard, "", 0),
		},
		url:     "http://" + ln.Addr().String() + "/",
		warning: exposedWarning(ln.Addr()),
		done:    make(chan struct{}),
	}
	go func() {
		defer close(m.done)
		_ = m.srv.Serve(ln) // always an error; ErrServerClosed after Shutdown
	}()
	return m, nil
}

// exposedWarning returns a warning for a monitor listening on addr when
// addr is not a loopback address (all interfaces, such as :8000, or
// another), and "" for a loopback one.
func exposedWarning(addr net.Addr) string {
	if a, ok := addr.(*net.TCPAddr); ok && a.IP.IsLoopback() {
		return ""
	}
	return fmt.Sprintf("monitor: WARNING: listening on %s, not only on loopback: anyone who can reach it sees "+
		"the tasks' labels and error texts, and the monitor has no authentication; "+
		"use 127.0.0.1:PORT to keep it to this machine", addr)
}

// close ends the monitor's streams, then stops the server, waiting up to
// shutdownGrace for other requests, and joins its goroutine.
func (m *monitorServer) close() error {
	m.mon.Close()
	return stopServer("monitor", m.srv, m.done)
}
