// Command pgreport turns the output of bench/pg's benchmarks (go test
// -bench, any -count) into a Markdown table of medians with their spread
// and the perkey/River ratios, the CPU split, the goals of issue 12 (and
// the numbers issue 11 asks for), and an SVG chart of jobs/s.
//
// Usage:
//
//	pgreport [-svg FILE] [-out FILE] [-machine TEXT] [-command TEXT] [file ...]
//
// It reads the files named, one after the other, or standard input when
// there are none or a file is "-".
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// defaultCommand is how the numbers are produced, from bench/pg.
const defaultCommand = `cd bench/pg && ./run`

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
	fs := flag.NewFlagSet("pgreport", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		out     = fs.String("out", "-", "write the Markdown to this file (- for standard output)")
		svg     = fs.String("svg", "", "write the jobs/s chart (SVG) to this file")
		machine = fs.String("machine", "", "describe the machine beyond the goos/goarch/cpu lines (cores, memory)")
		command = fs.String("command", defaultCommand, "the exact command that produced the input")
		title   = fs.String("title", "perkey on PostgreSQL beside River: jobs/s, 8 slots per process", "the chart's title")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	var input bytes.Buffer
	names := fs.Args()
	if len(names) == 0 {
		names = []string{"-"}
	}
	for _, name := range names {
		var err error
		if name == "-" {
			_, err = io.Copy(&input, stdin)
		} else {
			var raw []byte
			raw, err = os.ReadFile(name)
			input.Write(raw)
		}
		if err != nil {
			return fmt.Errorf("pgreport: %w", err)
		}
	}
	c, err := parse(&input)
	if err != nil {
		return err
	}
	var md bytes.Buffer
	if err := writeMarkdown(&md, c, *command, *machine); err != nil {
		return err
	}
	if *svg != "" {
		var chart bytes.Buffer
		if err := writeSVG(&chart, c, *title); err != nil {
			return err
		}
		if err := os.WriteFile(*svg, chart.Bytes(), 0o644); err != nil {
			return fmt.Errorf("pgreport: %w", err)
		}
	}
	if *out == "-" {
		_, err = stdout.Write(md.Bytes())
		return err
	}
	if err := os.WriteFile(*out, md.Bytes(), 0o644); err != nil {
		return fmt.Errorf("pgreport: %w", err)
	}
	return nil
}
