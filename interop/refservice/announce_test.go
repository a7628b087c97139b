package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"
)

type publishedMessage struct {
	topic string
	body  []byte
}

// fakePublisher records messages and fails the first failures calls.
type fakePublisher struct {
	mu       sync.Mutex
	failures int
	calls    int
	messages []publishedMessage
}

func (p *fakePublisher) Publish(topic string, body []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()

	p.calls++
	if p.calls <= p.failures {
		return errors.New("dial tcp 127.0.0.1:4150: connection refused")
	}
	p.messages = append(p.messages, publishedMessage{topic: topic, body: body})
	return nil
}

func (p *fakePublisher) snapshot() (int, []publishedMessage) {
	p.mu.Lock()
	defer p.mu.Unlock()

	return p.calls, append([]publishedMessage(nil), p.messages...)
}

func newTestAnnouncer(publisher publisher) *announcer {
	return &announcer{
		publisher:      publisher,
		logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
		serviceTopic:   "taskService",
		heartbeatTopic: "heartBeat",
		registration: registration{
			URL:      "http://127.0.0.1:18081/rpost/task",
			Name:     "refservice",
			Type:     "2",
			Reserved: "no",
		},
		heartbeatInterval: 10 * time.Millisecond,
		registerInterval:  time.Hour,
		now:               func() time.Time { return time.Unix(1594885152, 0) },
	}
}

func TestRegistrationBody(t *testing.T) {
	publisher := &fakePublisher{}
	if !newTestAnnouncer(publisher).register(context.Background()) {
		t.Fatal("register returned false without cancellation")
	}

	_, messages := publisher.snapshot()
	if len(messages) != 1 {
		t.Fatalf("published %d messages, want 1", len(messages))
	}
	if messages[0].topic != "taskService" {
		t.Errorf("topic = %q, want taskService", messages[0].topic)
	}
	want := `{"url":"http://127.0.0.1:18081/rpost/task","name":"refservice","type":"2","reserved":"no"}`
	if got := string(messages[0].body); got != want {
		t.Errorf("body = %s, want %s", got, want)
	}
}

func TestRegistrationRetriesUntilAccepted(t *testing.T) {
	publisher := &fakePublisher{failures: 2}
	if !newTestAnnouncer(publisher).register(context.Background()) {
		t.Fatal("register returned false without cancellation")
	}

	calls, messages := publisher.snapshot()
	if calls != 3 {
		t.Errorf("publish calls = %d, want 3", calls)
	}
	if len(messages) != 1 {
		t.Errorf("published %d messages, want 1", len(messages))
	}
}

func TestRegistrationStopsOnCancel(t *testing.T) {
	publisher := &fakePublisher{failures: 1 << 30}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()

	if newTestAnnouncer(publisher).register(ctx) {
		t.Fatal("register returned true although every publish failed")
	}
}

func TestHeartbeatBody(t *testing.T) {
	publisher := &fakePublisher{}
	newTestAnnouncer(publisher).sendHeartbeat()

	_, messages := publisher.snapshot()
	if len(messages) != 1 {
		t.Fatalf("published %d messages, want 1", len(messages))
	}
	if messages[0].topic != "heartBeat" {
		t.Errorf("topic = %q, want heartBeat", messages[0].topic)
	}
	want := `{"url":"http://127.0.0.1:18081/rpost/task","time":1594885152,"reserved":"no"}`
	if got := string(messages[0].body); got != want {
		t.Errorf("body = %s, want %s", got, want)
	}
}

func TestRunSendsHeartbeatsUntilCancel(t *testing.T) {
	publisher := &fakePublisher{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		newTestAnnouncer(publisher).run(ctx)
	}()

	time.Sleep(100 * time.Millisecond)
	cancel()
	select {
	case <-done:
	case <-time.After(time.Second):
		t.Fatal("run did not return within 1s of cancel")
	}

	_, messages := publisher.snapshot()
	if len(messages) < 2 {
		t.Fatalf("published %d heartbeats in 100ms at a 10ms interval, want at least 2", len(messages))
	}
	for _, message := range messages {
		var body heartbeat
		if err := json.Unmarshal(message.body, &body); err != nil {
			t.Fatalf("heartbeat is not JSON: %v", err)
		}
		if message.topic != "heartBeat" {
			t.Errorf("topic = %q, want heartBeat", message.topic)
		}
	}
}
