// Command taskdash-loadgen sends HTTP requests to one server over a fixed
// number of keep-alive connections and prints one JSON object with the
// results on stdout.
//
// Each connection runs one request at a time. The run stops after
// -requests requests in all, or after -duration when -requests is 0.
// A "{seq}" in -path is replaced by a number unique within the run, counted
// from -seq-start, so that every request can address a different resource.
// -headers names a JSON file with an array of header objects, and
// connection i sends entry i modulo the array's length, so that each
// connection can carry its own session cookie and CSRF token.
//
// A response counts as an error when its status differs from -expect, and
// so does a request that fails without a response. Latency is measured from
// sending the request until the whole response body has been read.
//
// Exit status: 0 when the run completed (even with errors, which the JSON
// reports), 1 when it could not start, 2 for invalid flags.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type config struct {
	baseURL     string
	path        string
	method      string
	connections int
	requests    int64
	duration    time.Duration
	seqStart    int64
	headersFile string
	expect      int
	timeout     time.Duration
}

// result is the JSON object printed on stdout. Latencies are in milliseconds.
type result struct {
	Count             int64            `json:"count"`
	Errors            int64            `json:"errors"`
	Statuses          map[string]int64 `json:"statuses"`
	TransportErrors   int64            `json:"transport_errors"`
	FirstError        string           `json:"first_error,omitempty"`
	Seconds           float64          `json:"seconds"`
	RPS               float64          `json:"rps"`
	P50               float64          `json:"p50_ms"`
	P90               float64          `json:"p90_ms"`
	P99               float64          `json:"p99_ms"`
	Max               float64          `json:"max_ms"`
	Connections       int              `json:"connections"`
	ConnectionsOpened int64            `json:"connections_opened"`
	// CPUSeconds is the user plus system CPU time of this process, to show
	// how much of the machine the load generator itself took.
	CPUSeconds float64 `json:"cpu_seconds"`
}

// workerResult contains the latencies, statuses and errors of one connection's requests.
type workerResult struct {
	latencies       []time.Duration
	statuses        map[int]int64
	transportErrors int64
	firstError      string
}

func parseFlags(args []string) (config, error) {
	var cfg config
	flags := flag.NewFlagSet("taskdash-loadgen", flag.ContinueOnError)
	flags.StringVar(&cfg.baseURL, "url", "", "base URL of the server, for example http://127.0.0.1:8600 (required)")
	flags.StringVar(&cfg.path, "path", "/", `request path; "{seq}" is replaced by a number unique within the run`)
	flags.StringVar(&cfg.method, "method", http.MethodGet, "HTTP method")
	flags.IntVar(&cfg.connections, "connections", 10, "number of keep-alive connections, each with one request in flight")
	flags.Int64Var(&cfg.requests, "requests", 0, "total number of requests; 0 runs for -duration instead")
	flags.DurationVar(&cfg.duration, "duration", 10*time.Second, "how long to send requests when -requests is 0")
	flags.Int64Var(&cfg.seqStart, "seq-start", 0, `first number that replaces "{seq}"`)
	flags.StringVar(&cfg.headersFile, "headers", "", "JSON file with an array of header objects; connection i sends entry i modulo its length")
	flags.IntVar(&cfg.expect, "expect", http.StatusOK, "expected HTTP status; any other status counts as an error")
	flags.DurationVar(&cfg.timeout, "timeout", 10*time.Second, "timeout of one request")
	if err := flags.Parse(args); err != nil {
		return cfg, err
	}

	switch {
	case flags.NArg() > 0:
		return cfg, fmt.Errorf("unexpected arguments %q: pass options only", flags.Args())
	case cfg.baseURL == "":
		return cfg, errors.New("missing -url: pass the server's base URL, for example http://127.0.0.1:8600")
	case cfg.connections < 1:
		return cfg, fmt.Errorf("invalid -connections %d: use 1 or more", cfg.connections)
	case cfg.requests < 0:
		return cfg, fmt.Errorf("invalid -requests %d: use 0 (run for -duration) or more", cfg.requests)
	case cfg.requests == 0 && cfg.duration <= 0:
		return cfg, fmt.Errorf("invalid -duration %s: use a positive duration, or set -requests", cfg.duration)
	case !strings.HasPrefix(cfg.path, "/"):
		return cfg, fmt.Errorf("invalid -path %q: it must start with /", cfg.path)
	}
	cfg.baseURL = strings.TrimRight(cfg.baseURL, "/")
	return cfg, nil
}

// readHeaders returns the header sets of the -headers file, or one empty set without it.
func readHeaders(path string) ([]http.Header, error) {
	if path == "" {
		return []http.Header{{}}, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var entries []map[string]string
	if err := json.Unmarshal(data, &entries); err != nil {
		return nil, fmt.Errorf("invalid -headers file %s: %w (expected a JSON array of objects)", path, err)
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("invalid -headers file %s: the array is empty", path)
	}
	sets := make([]http.Header, len(entries))
	for i, entry := range entries {
		sets[i] = http.Header{}
		for name, value := range entry {
			sets[i].Set(name, value)
		}
	}
	return sets, nil
}

// newClient returns a client whose transport keeps up to `connections`
// connections alive and counts each connection it opens in `opened`.
func newClient(connections int, timeout time.Duration, opened *atomic.Int64) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	transport := &http.Transport{
		DialContext: func(ctx context.Context, network, address string) (net.Conn, error) {
			opened.Add(1)
			return dialer.DialContext(ctx, network, address)
		},
		MaxConnsPerHost:     connections,
		MaxIdleConns:        connections,
		MaxIdleConnsPerHost: connections,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	return &http.Client{Transport: transport, Timeout: timeout}
}

// runner contains the state that all connections share during a run.
type runner struct {
	cfg      config
	client   *http.Client
	headers  []http.Header
	nextSeq  atomic.Int64
	deadline time.Time
}

// next returns the sequence number of the next request, or false when the run is over.
func (r *runner) next() (int64, bool) {
	if r.cfg.requests == 0 && !time.Now().Before(r.deadline) {
		return 0, false
	}
	seq := r.nextSeq.Add(1) - 1
	if r.cfg.requests > 0 && seq >= r.cfg.requests {
		return 0, false
	}
	return r.cfg.seqStart + seq, true
}

// send runs one request and returns its status, or an error when no response arrived.
func (r *runner) send(header http.Header, seq int64) (int, error) {
	path := strings.ReplaceAll(r.cfg.path, "{seq}", strconv.FormatInt(seq, 10))
	request, err := http.NewRequest(r.cfg.method, r.cfg.baseURL+path, nil)
	if err != nil {
		return 0, err
	}
	request.Header = header.Clone()
	response, err := r.client.Do(request)
	if err != nil {
		return 0, err
	}
	// The body is read to its end, so the connection can be reused.
	_, err = io.Copy(io.Discard, response.Body)
	response.Body.Close()
	if err != nil {
		return 0, err
	}
	return response.StatusCode, nil
}

func (r *runner) work(connection int) workerResult {
	header := r.headers[connection%len(r.headers)]
	collected := workerResult{statuses: map[int]int64{}}
	for {
		seq, ok := r.next()
		if !ok {
			return collected
		}
		started := time.Now()
		status, err := r.send(header, seq)
		collected.latencies = append(collected.latencies, time.Since(started))
		if err != nil {
			collected.transportErrors++
			if collected.firstError == "" {
				collected.firstError = err.Error()
			}
			continue
		}
		collected.statuses[status]++
	}
}

// percentile returns the value at fraction q of the sorted latencies, by the nearest-rank method.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(q*float64(len(sorted))+0.5) - 1
	rank = max(0, min(rank, len(sorted)-1))
	return sorted[rank]
}

func milliseconds(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}

func cpuSeconds() float64 {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		return 0
	}
	return time.Duration(usage.Utime.Nano() + usage.Stime.Nano()).Seconds()
}

func summarize(cfg config, collected []workerResult, elapsed time.Duration, opened int64) result {
	out := result{Statuses: map[string]int64{}, Connections: cfg.connections, ConnectionsOpened: opened}
	var latencies []time.Duration
	for _, worker := range collected {
		latencies = append(latencies, worker.latencies...)
		out.TransportErrors += worker.transportErrors
		if out.FirstError == "" {
			out.FirstError = worker.firstError
		}
		for status, count := range worker.statuses {
			out.Statuses[strconv.Itoa(status)] += count
			if status != cfg.expect {
				out.Errors += count
			}
		}
	}
	out.Errors += out.TransportErrors
	slices.Sort(latencies)

	out.Count = int64(len(latencies))
	out.Seconds = elapsed.Seconds()
	if out.Seconds > 0 {
		out.RPS = float64(out.Count) / out.Seconds
	}
	out.P50 = milliseconds(percentile(latencies, 0.50))
	out.P90 = milliseconds(percentile(latencies, 0.90))
	out.P99 = milliseconds(percentile(latencies, 0.99))
	if len(latencies) > 0 {
		out.Max = milliseconds(latencies[len(latencies)-1])
	}
	out.CPUSeconds = cpuSeconds()
	return out
}

func run(cfg config) (result, error) {
	headers, err := readHeaders(cfg.headersFile)
	if err != nil {
		return result{}, err
	}
	var opened atomic.Int64
	r := &runner{cfg: cfg, client: newClient(cfg.connections, cfg.timeout, &opened), headers: headers}

	collected := make([]workerResult, cfg.connections)
	var wg sync.WaitGroup
	started := time.Now()
	r.deadline = started.Add(cfg.duration)
	for connection := range cfg.connections {
		wg.Add(1)
		go func() {
			defer wg.Done()
			collected[connection] = r.work(connection)
		}()
	}
	wg.Wait()
	return summarize(cfg, collected, time.Since(started), opened.Load()), nil
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "taskdash-loadgen:", err)
		os.Exit(2)
	}
	out, err := run(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "taskdash-loadgen:", err)
		os.Exit(1)
	}
	encoder := json.NewEncoder(os.Stdout)
	if err := encoder.Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, "taskdash-loadgen: writing the result failed:", err)
		os.Exit(1)
	}
}
