package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/perkey/perkey/timeline"
)

// newRecorder returns the recorder of a -timeline run, after checking that
// the file can be written where it is asked for.
func newRecorder(o options) (*timeline.Recorder, error) {
	dir := filepath.Dir(o.timeline)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("-timeline %s: no directory %s", o.timeline, dir)
	}
	runs := fmt.Sprintf("MaxParallel %d", o.parallel)
	switch {
	case o.backend == backendPostgres && o.workers > 0:
		runs = fmt.Sprintf("PostgreSQL, %d worker processes x MaxParallel %d", o.workers, o.parallel)
	case o.backend == backendPostgres:
		runs = "PostgreSQL, workers started apart"
	}
	return timeline.New(timeline.Config{
		Title: fmt.Sprintf("perkey sim: scenarios %s, %s, hold %v", strings.Join(o.scenarios, ", "), runs, o.hold),
	})
}

// writeTimeline renders rec to the file at path.
func writeTimeline(rec *timeline.Recorder, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("-timeline: %w", err)
	}
	err = rec.Render(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return errors.Join(fmt.Errorf("-timeline %s: %w", path, err), os.Remove(path))
	}
	return nil
}
