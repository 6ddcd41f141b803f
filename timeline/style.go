package timeline

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/perkey/perkey/internal/workercolour"
	"github.com/perkey/perkey/scheduler"
)

// pageCSS styles the page. Colours are by state class, shared by bars,
// marks and the legend's swatches, and, with a Backend, by process for
// the running segments (w0 to w7, after .running so that they win);
// fonts are the system's, nothing is fetched.
const pageCSS = `
:root { color-scheme: light; }
body { margin: 24px; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: #1f2937; background: #fff; }
h1 { font-size: 20px; margin: 0 0 2px; }
h2 { font-size: 16px; margin: 22px 0 2px; }
.meta, .counts, footer { color: #6b7280; font-size: 12px; margin: 2px 0; }
.summary { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; margin: 2px 0; }
svg { display: block; overflow: visible; }
svg.legend { margin: 10px 0 4px; }
.tick { font-size: 12px; fill: #6b7280; text-anchor: middle; }
.grid { stroke: #e5e7eb; stroke-width: 1; }
.grid.zero { stroke: #9ca3af; }
.lane-bg { fill: #f9fafb; }
.lane-bg.odd { fill: #f1f5f9; }
.task { font-size: 11px; fill: #6b7280; font-weight: 600; letter-spacing: .04em; }
.key { font-size: 13px; fill: #111827; text-anchor: end; dominant-baseline: middle; }
.legend text { font-size: 12px; fill: #374151; dominant-baseline: middle; }
.seg { stroke: none; }
.mark, .swatch { stroke-width: 1; }
.queued { fill: #cbd5e1; }
.throttled { fill: #c4b5fd; }
.pending { fill: #f59e0b; }
.running { fill: #2563eb; }
` + workercolour.CSS + `.workers { color: #374151; font-size: 12px; margin: 2px 0; }
.workers i { display: inline-block; width: 14px; height: 8px; border-radius: 1.5px; margin: 0 4px 0 2px; vertical-align: middle; }
.succeeded { fill: #16a34a; stroke: #fff; }
.failed { fill: #dc2626; stroke: #fff; }
.dropped { fill: none; stroke: #ea580c; stroke-width: 2.4; stroke-linecap: round; }
.expired { fill: #7c3aed; stroke: #fff; }
.canceled { fill: none; stroke: #4b5563; stroke-width: 1.8; }
.dedupe { fill: #06b6d4; stroke: #fff; stroke-width: .8; }
.dedupe-count { font-size: 12px; fill: #0e7490; dominant-baseline: middle; }
.note { fill: #dc2626; stroke: #fff; stroke-width: .8; }
.bar.noted .seg.running { stroke: #dc2626; stroke-width: 1.6; }
.bar:hover .seg { filter: brightness(.8); }
`

// maxListedWorkers is how many processes the legend and a section's line
// name; the others are counted.
const maxListedWorkers = 12

// finalStates are the final states, in the order the page lists them.
var finalStates = [...]scheduler.State{
	scheduler.Succeeded, scheduler.Failed, scheduler.Dropped, scheduler.Expired, scheduler.Canceled,
}

// pageCSP is the page's Content-Security-Policy: its own style, by hash,
// and nothing else: no script, no fetch, no form.
var pageCSP = "default-src 'none'; style-src '" + cssHash() + "'; base-uri 'none'; form-action 'none'"

func cssHash() string {
	sum := sha256.Sum256([]byte(pageCSS))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

// phaseClass is the CSS class of a phase: its state's, or "throttled".
func phaseClass(ph phase) string {
	if ph.throttled {
		return "throttled"
	}
	return stateClass(ph.state)
}

// phaseName names a phase in a bar's hover text.
func phaseName(ph phase) string {
	if ph.throttled {
		return "throttled (waiting for a rate token)"
	}
	return stateClass(ph.state)
}

// stateClass is the CSS class of a state: its name in lower case, or
// "other" for a state this package does not know.
func stateClass(s scheduler.State) string {
	switch s {
	case scheduler.Queued, scheduler.Pending, scheduler.Running,
		scheduler.Succeeded, scheduler.Failed, scheduler.Dropped, scheduler.Expired, scheduler.Canceled:
		return strings.ToLower(s.String())
	}
	return "other"
}

// markPath is the outline of the end mark of a final state, centred on
// (x, y), half-size r.
func markPath(s scheduler.State, x, y, r float64) string {
	switch s {
	case scheduler.Succeeded: // a disc
		return fmt.Sprintf("M%.1f %.1fa%.1f %.1f 0 1 0 %.1f 0a%.1f %.1f 0 1 0 %.1f 0Z", x-r, y, r, r, 2*r, r, r, -2*r)
	case scheduler.Failed: // a square
		return fmt.Sprintf("M%.1f %.1fh%.1fv%.1fh%.1fZ", x-r, y-r, 2*r, 2*r, -2*r)
	case scheduler.Dropped: // a cross
		return fmt.Sprintf("M%.1f %.1fL%.1f %.1fM%.1f %.1fL%.1f %.1f", x-r, y-r, x+r, y+r, x+r, y-r, x-r, y+r)
	case scheduler.Expired: // an hourglass
		return fmt.Sprintf("M%.1f %.1fh%.1fL%.1f %.1fh%.1fZ", x-r, y-r, 2*r, x-r, y+r, 2*r)
	default: // canceled: a struck-out square
		return fmt.Sprintf("M%.1f %.1fh%.1fv%.1fh%.1fZM%.1f %.1fL%.1f %.1f", x-r, y-r, 2*r, 2*r, -2*r, x-r, y+r, x+r, y-r)
	}
}

// noteR is half the width of a note mark.
const noteR = 5.0

// notePath is the outline of a note mark: a triangle pointing down at
// (x, y), above a bar.
func notePath(x, y, r float64) string {
	return fmt.Sprintf("M%.1f %.1fL%.1f %.1fL%.1f %.1fZ", x, y, x-r, y-1.6*r, x+r, y-1.6*r)
}

// diamondPath is the outline of a dedupe mark centred on (x, y).
func diamondPath(x, y, r float64) string {
	return fmt.Sprintf("M%.1f %.1fL%.1f %.1fL%.1f %.1fL%.1f %.1fZ", x, y-r, x+r, y, x, y+r, x-r, y)
}

// legendItem is one entry of the legend.
type legendItem struct {
	class, text string
	item        string          // its data-item, if not its class
	seg         bool            // a bar segment swatch
	mark        scheduler.State // else an end mark, or a dedupe mark if dedupe, or a note mark if note
	dedupe      bool
	note        bool
	plain       bool // text only, no swatch
}

var legendItems = []legendItem{
	{class: "queued", text: "queued: behind its key", seg: true},
	{class: "throttled", text: "throttled: waiting for a rate token", seg: true},
	{class: "pending", text: "pending: waiting for a slot", seg: true},
	{class: "running", text: "running", seg: true},
	{class: "succeeded", text: "succeeded", mark: scheduler.Succeeded},
	{class: "failed", text: "failed", mark: scheduler.Failed},
	{class: "dropped", text: "dropped", mark: scheduler.Dropped},
	{class: "expired", text: "expired", mark: scheduler.Expired},
	{class: "canceled", text: "canceled", mark: scheduler.Canceled},
	{class: "dedupe", text: "deduplicated submissions: the first and the last", dedupe: true},
}
