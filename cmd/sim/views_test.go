package main

import (
	"bufio"
	"context"
	"encoding/json"
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
		require.Len(t, elements(sec, "dedupe"), tc.dedupes, tc.title)
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
