// Command benchreport turns the output of the bench module's benchmarks
// (go test -bench) into the README's Performance section: a Markdown table
// per workload, the command and the machine, and an SVG plot of throughput
// against keys, one line per implementation.
//
// Usage:
//
//	benchreport [flags] [file ...]
//
// It reads the files named, one after the other (several go test runs may
// be concatenated), or standard input when there are none or a file is
// "-". It writes the Markdown to -out (standard output by default), the
// plot to -svg when given, and, with -readme, also replaces the text
// between <!-- perf:begin --> and <!-- perf:end --> in that file.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// defaultCommand is how the README's numbers are produced, run from the
// repository's root: bench/run passes the command it ran as -command.
const defaultCommand = `cd bench && ./run -count 5`

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, err)
		}
		os.Exit(2)
	}
}

// run is main with its inputs and outputs passed in, for tests.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("benchreport", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		out     = fs.String("out", "-", "write the Markdown section to this file (- for standard output)")
		svg     = fs.String("svg", "", "write the throughput plot (SVG) to this file")
		svgLink = fs.String("svg-link", "bench/throughput.svg", "the plot's path as the README links it (empty: no image)")
		readme  = fs.String("readme", "", "replace the text between "+beginMarker+" and "+endMarker+" in this file")
		machine = fs.String("machine", "", "describe the machine beyond the goos/goarch/cpu header (cores, memory)")
		command = fs.String("command", defaultCommand, "the exact command that produced the input")
		heading = fs.String("heading", "##", "the Markdown heading of the section")
	)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: benchreport [flags] [go-test-bench-output ...]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}

	input, err := readInputs(fs.Args(), stdin)
	if err != nil {
		return err
	}
	r, err := parse(bytes.NewReader(input))
	if err != nil {
		return err
	}
	var md bytes.Buffer
	opts := options{heading: *heading, command: *command, machine: *machine, svgLink: *svgLink}
	if *svg == "" {
		opts.svgLink = ""
	}
	if err := writeMarkdown(&md, r, opts); err != nil {
		return err
	}
	if *svg != "" {
		var plot bytes.Buffer
		if err := writeSVG(&plot, r, "perkey: throughput against keys (no-op tasks, 8 slots)"); err != nil {
			return err
		}
		if err := os.WriteFile(*svg, plot.Bytes(), 0o644); err != nil {
			return err
		}
	}
	if *readme != "" {
		if err := updateReadme(*readme, md.String()); err != nil {
			return err
		}
	}
	if *out == "-" {
		_, err = stdout.Write(md.Bytes())
		return err
	}
	return os.WriteFile(*out, md.Bytes(), 0o644)
}

// readInputs concatenates the named files, standard input for "-" or for
// no names at all.
func readInputs(names []string, stdin io.Reader) ([]byte, error) {
	if len(names) == 0 {
		names = []string{"-"}
	}
	var all bytes.Buffer
	for _, name := range names {
		var data []byte
		var err error
		if name == "-" {
			data, err = io.ReadAll(stdin)
		} else {
			data, err = os.ReadFile(name)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrUsage, err)
		}
		all.Write(data)
		all.WriteByte('\n')
	}
	return all.Bytes(), nil
}
