package main

import "errors"

// Errors of benchreport. Check them with errors.Is: the errors returned
// wrap them with the file or line concerned.
var (
	// ErrNoResults: the input held no benchmark result line.
	ErrNoResults = errors.New("benchreport: no benchmark results in the input")
	// ErrNoMarkers: the README lacks the perf:begin and perf:end markers,
	// or has them out of order or more than once.
	ErrNoMarkers = errors.New("benchreport: README lacks " + beginMarker + " ... " + endMarker)
	// ErrUsage: the command line is wrong.
	ErrUsage = errors.New("benchreport: usage")
)
