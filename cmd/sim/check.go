package main

import "fmt"

// problems lists how a result falls short of its scenario's reference:
// a collision in a guarded scenario, or counts that differ. None means it
// passes.
func problems(res result) []string {
	var out []string
	if res.sc.guarded && res.collisions > 0 {
		out = append(out, fmt.Sprintf("%d collisions, want 0", res.collisions))
	}
	want := res.sc.want
	for _, c := range []struct {
		name      string
		got, want int
	}{
		{"enqueued", res.enqueued, len(res.sc.plan)},
		{"calls", res.calls, want.calls},
		{"dropped", res.dropped, want.dropped},
		{"deduped", res.deduped, want.deduped},
	} {
		if c.got != c.want {
			out = append(out, fmt.Sprintf("%d %s, want %d", c.got, c.name, c.want))
		}
	}
	return out
}
