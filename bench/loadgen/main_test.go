package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder is a test server that records the paths and session headers it receives.
type recorder struct {
	mu       sync.Mutex
	paths    map[string]int
	sessions map[string]int
}

func newRecorder() *recorder {
	return &recorder{paths: map[string]int{}, sessions: map[string]int{}}
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.paths[req.URL.Path]++
	r.sessions[req.Header.Get("X-Session")]++
	r.mu.Unlock()
	if strings.HasSuffix(req.URL.Path, "/fail") {
		http.Error(w, "conflict", http.StatusConflict)
		return
	}
	w.Write([]byte(`{"status":"ok"}`))
}

func testConfig(url string) config {
	return config{baseURL: url, path: "/", method: http.MethodGet, connections: 4, duration: time.Second,
		expect: http.StatusOK, timeout: 5 * time.Second}
}

func TestRequestsSequenceUnique(t *testing.T) {
	rec := newRecorder()
	server := httptest.NewServer(rec)
	defer server.Close()
	cfg := testConfig(server.URL)
	cfg.method = http.MethodPost
	cfg.path = "/tasks/t-{seq}/claim"
	cfg.requests = 200
	cfg.seqStart = 1000

	out, err := run(cfg)
	if err != nil {
		t.Fatal(err)
	}

	if out.Count != 200 || out.Errors != 0 {
		t.Fatalf("count %d, errors %d; want 200 and 0", out.Count, out.Errors)
	}
	if len(rec.paths) != 200 {
		t.Fatalf("%d distinct paths; want 200", len(rec.paths))
	}
	if rec.paths["/tasks/t-1000/claim"] != 1 || rec.paths["/tasks/t-1199/claim"] != 1 {
		t.Fatalf("first or last sequence number missing: %v", rec.paths)
	}
}

func TestKeepAliveConnectionsBounded(t *testing.T) {
	server := httptest.NewServer(newRecorder())
	defer server.Close()
	cfg := testConfig(server.URL)
	cfg.requests = 500

	out, err := run(cfg)
	if err != nil {
		t.Fatal(err)
	}

	if out.ConnectionsOpened < 1 || out.ConnectionsOpened > int64(cfg.connections) {
		t.Fatalf("opened %d connections; want 1 to %d", out.ConnectionsOpened, cfg.connections)
	}
}

func TestHeadersPerConnection(t *testing.T) {
	rec := newRecorder()
	server := httptest.NewServer(rec)
	defer server.Close()
	headers := filepath.Join(t.TempDir(), "headers.json")
	if err := os.WriteFile(headers, []byte(`[{"X-Session":"a"},{"X-Session":"b"}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(server.URL)
	cfg.requests = 100
	cfg.headersFile = headers

	if _, err := run(cfg); err != nil {
		t.Fatal(err)
	}

	if rec.sessions["a"] == 0 || rec.sessions["b"] == 0 || rec.sessions["a"]+rec.sessions["b"] != 100 {
		t.Fatalf("sessions %v; want both a and b, 100 in all", rec.sessions)
	}
}

func TestUnexpectedStatusCountsAsError(t *testing.T) {
	server := httptest.NewServer(newRecorder())
	defer server.Close()
	cfg := testConfig(server.URL)
	cfg.path = "/fail"
	cfg.requests = 10

	out, err := run(cfg)
	if err != nil {
		t.Fatal(err)
	}

	if out.Errors != 10 || out.Statuses["409"] != 10 {
		t.Fatalf("errors %d, statuses %v; want 10 errors of status 409", out.Errors, out.Statuses)
	}
}

func TestClosedConnectionCountsAsError(t *testing.T) {
	// A listener that closes every connection before responding.
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer listener.Close()
	go func() {
		for {
			conn, err := listener.Accept()
			if err != nil {
				return
			}
			conn.Close()
		}
	}()
	cfg := testConfig("http://" + listener.Addr().String())
	cfg.requests = 3

	out, err := run(cfg)
	if err != nil {
		t.Fatal(err)
	}

	if out.TransportErrors != 3 || out.Errors != 3 || out.FirstError == "" {
		t.Fatalf("transport errors %d, errors %d, first error %q; want 3, 3 and a message",
			out.TransportErrors, out.Errors, out.FirstError)
	}
}

func TestDurationRunStops(t *testing.T) {
	server := httptest.NewServer(newRecorder())
	defer server.Close()
	cfg := testConfig(server.URL)
	cfg.duration = 200 * time.Millisecond

	out, err := run(cfg)
	if err != nil {
		t.Fatal(err)
	}

	if out.Count == 0 || out.Seconds < 0.2 || out.Seconds > 5 {
		t.Fatalf("count %d in %.2f s; want requests for about 0.2 s", out.Count, out.Seconds)
	}
	if out.P50 <= 0 || out.P99 < out.P50 || out.Max < out.P99 {
		t.Fatalf("p50 %.3f, p99 %.3f, max %.3f ms; want 0 < p50 <= p99 <= max", out.P50, out.P99, out.Max)
	}
}

func TestInvalidFlagsRejected(t *testing.T) {
	cases := map[string][]string{
		"missing url":      {},
		"zero connections": {"-url=http://127.0.0.1:1", "-connections=0"},
		"relative path":    {"-url=http://127.0.0.1:1", "-path=tasks"},
		"extra argument":   {"-url=http://127.0.0.1:1", "surplus"},
	}
	for name, args := range cases {
		if _, err := parseFlags(args); err == nil {
			t.Errorf("%s: parseFlags(%q) succeeded; want an error", name, args)
		}
	}
}

func TestPercentileNearestRank(t *testing.T) {
	sorted := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	if got := percentile(sorted, 0.5); got != 5 {
		t.Errorf("p50 = %d; want 5", got)
	}
	if got := percentile(sorted, 0.99); got != 10 {
		t.Errorf("p99 = %d; want 10", got)
	}
	if got := percentile(nil, 0.5); got != 0 {
		t.Errorf("p50 of nothing = %d; want 0", got)
	}
}
