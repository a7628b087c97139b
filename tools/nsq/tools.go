//go:build tools

// Package tools records the NSQ commands that TaskDash builds for local runs
// and tests, so that go.mod and go.sum keep their dependencies.
package tools

import (
	_ "github.com/nsqio/nsq/apps/nsq_tail"
	_ "github.com/nsqio/nsq/apps/nsqd"
	_ "github.com/nsqio/nsq/apps/nsqlookupd"
)
