package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"github.com/perkey/perkey/monitor"
)

// TestTimelineFlag: -timeline writes the scenarios run (A to D here) on one page: a section per
// scenario with its summary line, a lane per account, and the bars and
// marks each scenario must show.
func TestTimelineFlag(t *testing.T) {
	path := filepath.Join(t.TempDir(), "timeline.html")
	r := runSim(t.Context(), "-hold", testHold, "-timeline", path, "-scenarios", "A,B,C,D")
	require.Equal(t, exitOK, r.code, r.stderr)
	require.Contains(t, r.stdout, "timeline: wrote "+path+"\n")

	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	doc, err := html.Parse(f)
	require.NoError(t, err)

	summaries := regexp.MustCompile(`(?m)^  (\d+ enqueued -> .*)$`).FindAllStringSubmatch(r.stdout, -1)
	require.Len(t, summaries, 4)
	sections := tagged(doc, "section")
	require.Len(t, sections, 4)
	tests := []struct {
		title                             string
		bars, succeeded, dropped, dedupes int
	}{
		{"A. unsafe — no concurrency control", 12, 12, 0, 0},
		{"B. keyed — Running=ByKey(account), OnBusy=Wait", 12, 12, 0, 0},
		{"C. drop — Running=ByKey(account), OnBusy=Drop", 12, 3, 9, 0},
		{"D. dedupe — Registration=ByKey(account) + Running=ByKey(account), Dedupe=UntilDone", 3, 3, 0, 21},
	}
	for i, tc := range tests {
		sec := sections[i]
		require.Equal(t, tc.title, text(tagged(sec, "h2")[0]))
		require.Equal(t, tc.title, attrOf(sec, "data-title"))
		require.Equal(t, summaries[i][1], text(elements(sec, "summary")[0]), "the same summary as the terminal")
		var keys []string
		for _, l := range elements(sec, "lane") {
			keys = append(keys, attrOf(l, "data-key"))
		}
		require.Equal(t, referenceAccounts(), keys, tc.title)
		bars := elements(sec, "bar")
		require.Len(t, bars, tc.bars, tc.title)
		for _, b := range bars {
			require.Contains(t, referenceOps(), attrOf(b, "data-label"), "the sim labels events with the op")
		}
		require.Len(t, elements(sec, "succeeded"), tc.succeeded, tc.title)
		require.Len(t, elements(sec, "dropped"), tc.dropped, tc.title)
		// Dedupes are drawn per invocation: the first and the last, and
		// a count of them all.
		dedupes := 0
		for _, c := range elements(sec, "dedupe-count") {
			var n int
			_, err := fmt.Sscanf(text(c), "+%d deduped", &n)
			require.NoError(t, err, text(c))
			dedupes += n
		}
		require.Equal(t, tc.dedupes, dedupes, tc.title)
		require.LessOrEqual(t, len(elements(sec, "dedupe")), 2*tc.bars, tc.title)
	}
}

// TestTimelineMarksCollisions: on the timeline, every call that the
// provider answered with a collision is marked as such (A, and H without
// its Group): as many marks as the provider counted collisions, and none
// where the guard holds.
func TestTimelineMarksCollisions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "timeline.html")
	r := runSim(t.Context(), "-hold", testHold, "-timeline", path, "-json", "-scenarios", "A,B,H")
	require.Equal(t, exitOK, r.code, r.stderr)
	got := decodeLines(t, r.stdout)
	require.Len(t, got, 3)
	require.Positive(t, got[0].Collisions, "A collides")
	require.NotNil(t, got[2].CollisionsWithoutGroup)
	require.Positive(t, *got[2].CollisionsWithoutGroup, "H without its Group collides")

	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	doc, err := html.Parse(f)
	require.NoError(t, err)
	sections := tagged(doc, "section")
	require.Len(t, sections, 3)
	for i, want := range []int{got[0].Collisions, 0, *got[2].CollisionsWithoutGroup + got[2].Collisions} {
		marked := map[string]bool{}
		for _, n := range elements(sections[i], "note") {
			if id := attrOf(n, "data-id"); id != "" && attrOf(n, "data-note") == "collision" {
				marked[id] = true
			}
		}
		require.Len(t, marked, want, "section %s", attrOf(sections[i], "data-title"))
	}
}

func TestTimelineFlagNoDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "timeline.html")
	r := runSim(t.Context(), "-hold", testHold, "-timeline", path)
	require.Equal(t, exitFail, r.code)
	require.Contains(t, r.stderr, "-timeline "+path+": no directory")
	require.NoFileExists(t, path)
}

// TestMonitorFlag: -monitor serves the monitor while the scenarios run
// and after them, until interrupted; then the sim exits cleanly, its
// streams ended (goleak checks every goroutine).
func TestMonitorFlag(t *testing.T) {
	ctx, interrupt := context.WithCancel(t.Context())
	defer interrupt()
	var stdout syncBuffer
	stderr := &syncBuffer{ready: make(chan struct{}), readyOn: "until interrupted"}
	done := make(chan int, 1)
	go func() {
		done <- runContext(ctx, []string{"-hold", testHold, "-quiet", "-monitor", "127.0.0.1:0", "-scenarios", "A,B,C,D"}, &stdout, stderr)
	}()
	<-stderr.ready
	m := regexp.MustCompile(`(?m)^monitor: (http://127\.0\.0\.1:\d+/)$`).FindStringSubmatch(stderr.String())
	require.NotNil(t, m, stderr.String())
	require.NotContains(t, stderr.String(), "WARNING", "loopback: nothing to warn about")
	url := m[1]

	var st monitor.State
	getJSON(t, url+"state.json", &st)
	require.Equal(t, monitor.Stats{Submitted: 60, Succeeded: 30, Dropped: 9, Deduped: 21}, st.Stats)
	require.Equal(t, monitor.Slots{Max: 8}, st.Slots)

	resp, err := http.Get(url)
	require.NoError(t, err)
	page, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Contains(t, string(page), "<title>perkey monitor</title>")

	// A viewer is connected when the interrupt comes.
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url+"stream", nil)
	require.NoError(t, err)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "event: state\n", line)

	interrupt()
	require.Equal(t, exitOK, <-done, stderr.String())
	_, err = io.ReadAll(resp.Body)
	require.NoError(t, err, "the stream ended cleanly")
	_, err = http.Get(url + "state.json")
	require.Error(t, err, "no longer serving")
}

// TestExposedWarning: a monitor on an address that is not loopback (all
// interfaces, as :8000 gives, or another) is announced with a warning
// that it shows labels and errors and has no authentication.
func TestExposedWarning(t *testing.T) {
	tests := []struct {
		addr    net.Addr
		exposed bool
	}{
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8000}, false},
		{&net.TCPAddr{IP: net.IPv4(127, 1, 2, 3), Port: 8000}, false},
		{&net.TCPAddr{IP: net.IPv6loopback, Port: 8000}, false},
		{&net.TCPAddr{IP: net.IPv4zero, Port: 8000}, true},        // 0.0.0.0:8000
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 8000}, true}, // :8000
		{&net.TCPAddr{Port: 8000}, true},
		{&net.TCPAddr{IP: net.IPv4(192, 168, 1, 20), Port: 8000}, true},
		{&net.TCPAddr{IP: net.ParseIP("fe80::1"), Port: 8000}, true},
		{&net.UnixAddr{Name: "/tmp/monitor.sock", Net: "unix"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.addr.String(), func(t *testing.T) {
			w := exposedWarning(tc.addr)
			if !tc.exposed {
				require.Empty(t, w)
				return
			}
			require.Equal(t, "monitor: WARNING: listening on "+tc.addr.String()+", not only on loopback: anyone who can reach it "+
				"sees the tasks' labels and error texts, and the monitor has no authentication; use 127.0.0.1:PORT to keep it to this machine", w)
		})
	}
}

func TestMonitorFlagAddressInUse(t *testing.T) {
	srv := startTestListener(t)
	r := runSim(t.Context(), "-hold", testHold, "-monitor", srv)
	require.Equal(t, exitFail, r.code)
	require.Contains(t, r.stderr, "sim: -monitor: listen tcp "+srv)
}

// startTestListener holds a loopback port for the test and returns it.
func startTestListener(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, ln.Close()) })
	return ln.Addr().String()
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(v))
}

// elements returns the elements under n with the class c.
func elements(n *html.Node, c string) []*html.Node {
	var out []*html.Node
	for d := range n.Descendants() {
		if d.Type == html.ElementNode && slices.Contains(strings.Fields(attrOf(d, "class")), c) {
			out = append(out, d)
		}
	}
	return out
}

// tagged returns the elements under n named tag.
func tagged(n *html.Node, tag string) []*html.Node {
	var out []*html.Node
	for d := range n.Descendants() {
		if d.Type == html.ElementNode && d.Data == tag {
			out = append(out, d)
		}
	}
	return out
}

func attrOf(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func text(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return b.String()
}
