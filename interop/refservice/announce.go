package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"
)

// Backoff bounds between registration attempts while nsqd rejects them or
// cannot be reached.
const (
	minRegisterBackoff = 100 * time.Millisecond
	maxRegisterBackoff = 5 * time.Second
)

// publisher is the part of *nsq.Producer that the announcer uses.
type publisher interface {
	Publish(topic string, body []byte) error
}

// registration is the message body on the service topic.
type registration struct {
	URL      string `json:"url"`
	Name     string `json:"name"`
	Type     string `json:"type"`
	Reserved string `json:"reserved"`
}

// heartbeat is the message body on the heartbeat topic. Time is Unix time in
// seconds.
type heartbeat struct {
	URL      string `json:"url"`
	Time     int64  `json:"time"`
	Reserved string `json:"reserved"`
}

// announcer publishes the registration and the heartbeats of one service.
type announcer struct {
	publisher         publisher
	logger            *slog.Logger
	serviceTopic      string
	heartbeatTopic    string
	registration      registration
	heartbeatInterval time.Duration
	registerInterval  time.Duration
	now               func() time.Time
}

// register publishes the registration, retrying with exponential backoff
// (capped at maxRegisterBackoff) until nsqd accepts it. It returns false when
// ctx ends first.
func (a *announcer) register(ctx context.Context) bool {
	body := mustMarshal(a.registration)
	backoff := minRegisterBackoff
	for attempt := 1; ; attempt++ {
		err := a.publisher.Publish(a.serviceTopic, body)
		if err == nil {
			a.logger.Info("registration published", "topic", a.serviceTopic, "url", a.registration.URL, "attempt", attempt)
			return true
		}
		a.logger.Error("registration failed, retrying", "topic", a.serviceTopic, "attempt", attempt, "retry_in", backoff, "error", err)

		select {
		case <-ctx.Done():
			return false
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxRegisterBackoff)
	}
}

// sendHeartbeat publishes one heartbeat and logs a failure. A lost heartbeat
// is not retried because the next one follows after heartbeatInterval.
func (a *announcer) sendHeartbeat() {
	body := mustMarshal(heartbeat{
		URL:      a.registration.URL,
		Time:     a.now().Unix(),
		Reserved: a.registration.Reserved,
	})
	if err := a.publisher.Publish(a.heartbeatTopic, body); err != nil {
		a.logger.Error("heartbeat failed", "topic", a.heartbeatTopic, "url", a.registration.URL, "error", err)
	}
}

// run sends a heartbeat every heartbeatInterval and publishes the
// registration again every registerInterval (one attempt each, so a
// TaskDash that lost its catalogue learns the service again) until ctx ends.
func (a *announcer) run(ctx context.Context) {
	heartbeats := time.NewTicker(a.heartbeatInterval)
	defer heartbeats.Stop()
	registrations := time.NewTicker(a.registerInterval)
	defer registrations.Stop()

	for {
		select {
		case <-ctx.Done():
			return
		case <-heartbeats.C:
			a.sendHeartbeat()
		case <-registrations.C:
			err := a.publisher.Publish(a.serviceTopic, mustMarshal(a.registration))
			if err != nil {
				a.logger.Error("registration refresh failed", "topic", a.serviceTopic, "url", a.registration.URL, "error", err)
			}
		}
	}
}

// mustMarshal encodes a message. The message types of this file contain only
// strings and integers, so encoding cannot fail.
func mustMarshal(value any) []byte {
	body, err := json.Marshal(value)
	if err != nil {
		panic(err)
	}
	return body
}
