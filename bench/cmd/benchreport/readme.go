package main

import (
	"fmt"
	"os"
	"strings"
)

// The markers around the generated section in the README.
const (
	beginMarker = "<!-- perf:begin -->"
	endMarker   = "<!-- perf:end -->"
)

// replaceSection returns doc with the text between beginMarker and
// endMarker replaced by section, the markers kept. It fails with
// ErrNoMarkers unless each marker appears exactly once, begin first.
func replaceSection(doc, section string) (string, error) {
	if strings.Count(doc, beginMarker) != 1 || strings.Count(doc, endMarker) != 1 {
		return "", ErrNoMarkers
	}
	begin := strings.Index(doc, beginMarker) + len(beginMarker)
	end := strings.Index(doc, endMarker)
	if end < begin {
		return "", ErrNoMarkers
	}
	return doc[:begin] + "\n" + strings.TrimSpace(section) + "\n" + doc[end:], nil
}

// updateReadme rewrites the section of the README at path in place.
func updateReadme(path, section string) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	doc, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	out, err := replaceSection(string(doc), section)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.WriteFile(path, []byte(out), info.Mode().Perm())
}
