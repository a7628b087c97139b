// Command taskdash-refservice is a reference task service for TaskDash
// interoperability tests. It registers itself and sends heartbeats through
// nsqd with github.com/nsqio/go-nsq, like a production task service, and
// serves an in-memory task list over HTTP.
//
// Once registered it prints "refservice ready url=URL" to stdout, so a test
// harness can wait for that line. Logs go to stderr. SIGINT and SIGTERM stop
// it with exit status 0.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/nsqio/go-nsq"
)

// shutdownTimeout bounds the wait for open HTTP requests on exit.
const shutdownTimeout = 5 * time.Second

type config struct {
	nsqdAddress       string
	listen            string
	path              string
	url               string
	name              string
	dataType          string
	reserved          string
	tasks             int
	idPrefix          string
	heartbeatInterval time.Duration
	registerInterval  time.Duration
	serviceTopic      string
	heartbeatTopic    string
}

// parseFlags parses args (without the program name). It returns
// flag.ErrHelp for -h and --help.
func parseFlags(args []string, output io.Writer) (config, error) {
	var cfg config
	flags := flag.NewFlagSet("taskdash-refservice", flag.ContinueOnError)
	flags.SetOutput(output)
	flags.StringVar(&cfg.nsqdAddress, "nsqd-tcp-address", "127.0.0.1:4150", "nsqd TCP address (host:port) to publish to")
	flags.StringVar(&cfg.listen, "listen", "127.0.0.1:18081", "HTTP listen address (host:port)")
	flags.StringVar(&cfg.path, "path", "/rpost/task", "HTTP path of the task endpoint")
	flags.StringVar(&cfg.url, "url", "", "URL announced in registration and heartbeats (default http://<listen><path>)")
	flags.StringVar(&cfg.name, "name", "refservice", "service name sent in the registration")
	flags.StringVar(&cfg.dataType, "type", "2", "service type sent in the registration and DataType of every task")
	flags.StringVar(&cfg.reserved, "reserved", "no", "reserved field sent in the registration and heartbeats")
	flags.IntVar(&cfg.tasks, "tasks", 20, "number of tasks to serve")
	flags.StringVar(&cfg.idPrefix, "id-prefix", "sy-hn", "task id prefix; ids are <prefix>-0, <prefix>-1, ...")
	flags.DurationVar(&cfg.heartbeatInterval, "heartbeat-interval", time.Second, "time between heartbeats")
	flags.DurationVar(&cfg.registerInterval, "register-interval", time.Minute, "time between repeated registrations")
	flags.StringVar(&cfg.serviceTopic, "service-topic", "taskService", "NSQ topic for registrations")
	flags.StringVar(&cfg.heartbeatTopic, "heartbeat-topic", "heartBeat", "NSQ topic for heartbeats")

	if err := flags.Parse(args); err != nil {
		return config{}, err
	}
	if flags.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected argument %q; all settings are flags, see --help", flags.Arg(0))
	}
	if cfg.url == "" {
		cfg.url = "http://" + cfg.listen + cfg.path
	}
	if err := cfg.validate(); err != nil {
		return config{}, err
	}
	return cfg, nil
}

func (cfg config) validate() error {
	if !strings.HasPrefix(cfg.path, "/") {
		return fmt.Errorf("invalid --path %q: it must start with /", cfg.path)
	}
	announced, err := url.Parse(cfg.url)
	if err != nil || (announced.Scheme != "http" && announced.Scheme != "https") || announced.Hostname() == "" {
		return fmt.Errorf("invalid announced URL %q: it must be an absolute http(s) URL with a host; set --url", cfg.url)
	}
	if cfg.tasks < 0 {
		return fmt.Errorf("invalid --tasks %d: it must be 0 or more", cfg.tasks)
	}
	if cfg.heartbeatInterval <= 0 {
		return fmt.Errorf("invalid --heartbeat-interval %s: it must be positive", cfg.heartbeatInterval)
	}
	if cfg.registerInterval <= 0 {
		return fmt.Errorf("invalid --register-interval %s: it must be positive", cfg.registerInterval)
	}
	if cfg.serviceTopic == "" || cfg.heartbeatTopic == "" {
		return errors.New("invalid topic: --service-topic and --heartbeat-topic must not be empty")
	}
	return nil
}

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "taskdash-refservice: %v\n", err)
		os.Exit(2)
	}

	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(cfg, logger); err != nil {
		logger.Error("refservice failed", "error", err)
		os.Exit(1)
	}
}

// run serves HTTP, announces the service until SIGINT or SIGTERM, and then
// shuts down. It returns an error only for failures that stop the service.
func run(cfg config, logger *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// Bind before announcing, so that TaskDash never polls a URL that is not
	// served yet and a taken port fails before anything is published.
	listener, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return fmt.Errorf("failed to listen on %s: %w", cfg.listen, err)
	}
	mux := http.NewServeMux()
	mux.Handle(cfg.path, &taskHandler{
		store:  newTaskStore(cfg.idPrefix, cfg.dataType, cfg.tasks),
		logger: logger,
	})
	server := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	serveErrors := make(chan error, 1)
	go func() { serveErrors <- server.Serve(listener) }()
	logger.Info("serving tasks", "listen", listener.Addr().String(), "path", cfg.path, "tasks", cfg.tasks)

	producer, err := nsq.NewProducer(cfg.nsqdAddress, nsq.NewConfig())
	if err != nil {
		server.Close()
		return fmt.Errorf("failed to create NSQ producer for %s: %w", cfg.nsqdAddress, err)
	}
	producer.SetLogger(slog.NewLogLogger(logger.Handler(), slog.LevelWarn), nsq.LogLevelWarning)

	announcer := &announcer{
		publisher:      producer,
		logger:         logger,
		serviceTopic:   cfg.serviceTopic,
		heartbeatTopic: cfg.heartbeatTopic,
		registration: registration{
			URL:      cfg.url,
			Name:     cfg.name,
			Type:     cfg.dataType,
			Reserved: cfg.reserved,
		},
		heartbeatInterval: cfg.heartbeatInterval,
		registerInterval:  cfg.registerInterval,
		now:               time.Now,
	}

	// Announcing stops when a signal arrives or the HTTP server fails.
	announceCtx, stopAnnouncing := context.WithCancel(ctx)
	announced := make(chan struct{})
	go func() {
		defer close(announced)
		if !announcer.register(announceCtx) {
			return
		}
		announcer.sendHeartbeat()
		fmt.Printf("refservice ready url=%s\n", cfg.url)
		announcer.run(announceCtx)
	}()

	var serveErr error
	select {
	case <-ctx.Done():
		logger.Info("signal received, stopping")
	case serveErr = <-serveErrors:
		serveErr = fmt.Errorf("HTTP server stopped: %w", serveErr)
	}

	// A publish in flight ends when nsqd responds, and producer.Stop() fails
	// any that is still pending after shutdownTimeout.
	stopAnnouncing()
	select {
	case <-announced:
	case <-time.After(shutdownTimeout):
		logger.Warn("announcer still publishing, stopping the NSQ producer anyway", "waited", shutdownTimeout)
	}
	producer.Stop()

	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := server.Shutdown(shutdownCtx); err != nil {
		logger.Error("HTTP shutdown timed out, exiting with requests still open", "timeout", shutdownTimeout, "error", err)
	}
	logger.Info("stopped")
	return serveErr
}
