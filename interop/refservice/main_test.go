package main

import (
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

func TestFlagDefaults(t *testing.T) {
	cfg, err := parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatalf("parseFlags: %v", err)
	}

	want := config{
		nsqdAddress:       "127.0.0.1:4150",
		listen:            "127.0.0.1:18081",
		path:              "/rpost/task",
		url:               "http://127.0.0.1:18081/rpost/task",
		name:              "refservice",
		dataType:          "2",
		reserved:          "no",
		tasks:             20,
		idPrefix:          "sy-hn",
		heartbeatInterval: time.Second,
		registerInterval:  time.Minute,
		serviceTopic:      "taskService",
		heartbeatTopic:    "heartBeat",
	}
	if cfg != want {
		t.Errorf("defaults = %+v, want %+v", cfg, want)
	}
}

func TestFlagsAcceptDoubleDash(t *testing.T) {
	cfg, err := parseFlags([]string{
		"--listen", "127.0.0.1:0", "--path=/tasks", "--url=http://127.0.0.1:9/tasks",
		"--tasks=3", "--heartbeat-interval=250ms",
	}, io.Discard)
	if err != nil {
		t.Fatalf("parseFlags: %v", err)
	}

	if cfg.url != "http://127.0.0.1:9/tasks" {
		t.Errorf("url = %q, want the --url value", cfg.url)
	}
	if cfg.tasks != 3 {
		t.Errorf("tasks = %d, want 3", cfg.tasks)
	}
	if cfg.heartbeatInterval != 250*time.Millisecond {
		t.Errorf("heartbeatInterval = %s, want 250ms", cfg.heartbeatInterval)
	}
}

func TestFlagsDefaultURLFollowsListenAndPath(t *testing.T) {
	cfg, err := parseFlags([]string{"--listen=127.0.0.1:18099", "--path=/rpost/test"}, io.Discard)
	if err != nil {
		t.Fatalf("parseFlags: %v", err)
	}

	if cfg.url != "http://127.0.0.1:18099/rpost/test" {
		t.Errorf("url = %q, want http://127.0.0.1:18099/rpost/test", cfg.url)
	}
}

func TestFlagsRejectInvalidValues(t *testing.T) {
	cases := map[string]struct {
		args        []string
		wantMention string
	}{
		"relative path":       {[]string{"--path=rpost/task"}, "--path"},
		"listen without host": {[]string{"--listen=:18081"}, "--url"},
		"non-http url":        {[]string{"--url=ftp://127.0.0.1/x"}, "--url"},
		"negative tasks":      {[]string{"--tasks=-1"}, "--tasks"},
		"zero heartbeat":      {[]string{"--heartbeat-interval=0s"}, "--heartbeat-interval"},
		"zero register":       {[]string{"--register-interval=0s"}, "--register-interval"},
		"empty topic":         {[]string{"--heartbeat-topic="}, "topic"},
		"positional":          {[]string{"extra"}, "extra"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := parseFlags(c.args, io.Discard)
			if err == nil {
				t.Fatalf("parseFlags(%q) succeeded, want an error", c.args)
			}
			if !strings.Contains(err.Error(), c.wantMention) {
				t.Errorf("error %q does not mention %s", err, c.wantMention)
			}
		})
	}
}

func TestFlagsHelp(t *testing.T) {
	_, err := parseFlags([]string{"--help"}, io.Discard)
	if !errors.Is(err, flag.ErrHelp) {
		t.Errorf("err = %v, want flag.ErrHelp", err)
	}
}
