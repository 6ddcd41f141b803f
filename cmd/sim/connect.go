package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/perkey/perkey/provider"
)

// connect returns a client for the provider at providerURL, probing it
// first, or, when providerURL is empty, starts one in-process (logging to
// log, if not nil) and returns it with a client. where says which. cfg
// configures the client. On failure nothing is left running.
func connect(ctx context.Context, providerURL string, log io.Writer, cfg provider.ClientConfig) (srv *provider.Server, client *provider.Client, where string, err error) {
	url := providerURL
	if url == "" {
		if srv, err = provider.Start(provider.Config{Log: log}); err != nil {
			return nil, nil, "", err
		}
		url, where = srv.URL(), "in-process"
	} else {
		where = "external: its call log is in its own output"
	}
	if client, err = provider.NewClient(url, cfg); err != nil {
		return nil, nil, "", closeServer(srv, err)
	}
	if providerURL != "" {
		pctx, cancel := context.WithTimeout(ctx, probeTimeout)
		defer cancel()
		if _, err := client.Report(pctx); err != nil {
			client.Close()
			return nil, nil, "", fmt.Errorf("provider %s unreachable: %w\n"+
				"start one with `go run ./cmd/sim provider -addr HOST:PORT`, or drop -provider to run one in-process", url, err)
		}
	}
	return srv, client, where, nil
}

// closeServer closes srv, if any, and returns err with its error.
func closeServer(srv *provider.Server, err error) error {
	if srv == nil {
		return err
	}
	return errors.Join(err, srv.Close())
}
