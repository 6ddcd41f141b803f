// Package workercolour is the palette that tells worker processes apart,
// shared by the timeline page and the monitor so that one process has
// the same colour in both: CSS classes w0 to w7, each setting fill (for
// SVG) and background (for HTML swatches). With more processes than
// colours, colours repeat.
package workercolour

import "strconv"

// Count is how many colours there are: classes w0 to w(Count-1).
const Count = 8

// CSS defines the classes w0 to w7. A page puts it after the rule for
// running segments, so that a process's colour wins.
const CSS = `.w0 { fill: #2563eb; background: #2563eb; }
.w1 { fill: #c026d3; background: #c026d3; }
.w2 { fill: #0d9488; background: #0d9488; }
.w3 { fill: #92400e; background: #92400e; }
.w4 { fill: #e15759; background: #e15759; }
.w5 { fill: #4d7c0f; background: #4d7c0f; }
.w6 { fill: #1e293b; background: #1e293b; }
.w7 { fill: #b07aa1; background: #b07aa1; }
`

// Class is the class of the i-th process (from 0): its colour is i
// modulo Count. A negative i gets w0.
func Class(i int) string {
	if i < 0 {
		i = 0
	}
	return "w" + strconv.Itoa(i%Count)
}
