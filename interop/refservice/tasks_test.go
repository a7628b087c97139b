package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

func newTestHandler(count int) *taskHandler {
	return &taskHandler{
		store:  newTaskStore("sy-hn", "2", count),
		logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

func serve(t *testing.T, handler http.Handler, request *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	recorder := httptest.NewRecorder()
	handler.ServeHTTP(recorder, request)
	return recorder
}

func postForm(form url.Values) *http.Request {
	request := httptest.NewRequest(http.MethodPost, "/rpost/task", strings.NewReader(form.Encode()))
	request.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return request
}

func decodeTasks(t *testing.T, recorder *httptest.ResponseRecorder) []Task {
	t.Helper()
	if recorder.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", recorder.Code, recorder.Body)
	}
	if got := recorder.Header().Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", got)
	}
	var tasks []Task
	if err := json.Unmarshal(recorder.Body.Bytes(), &tasks); err != nil {
		t.Fatalf("body is not a JSON task array: %v; body %s", err, recorder.Body)
	}
	return tasks
}

func decodeError(t *testing.T, recorder *httptest.ResponseRecorder, wantCode int) string {
	t.Helper()
	if recorder.Code != wantCode {
		t.Fatalf("status = %d, want %d; body %s", recorder.Code, wantCode, recorder.Body)
	}
	if got := recorder.Header().Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", got)
	}
	var body map[string]string
	if err := json.Unmarshal(recorder.Body.Bytes(), &body); err != nil {
		t.Fatalf("error body is not a JSON object: %v; body %s", err, recorder.Body)
	}
	message, ok := body["error"]
	if !ok {
		t.Fatalf("error body has no error field: %s", recorder.Body)
	}
	return message
}

func TestGetReturnsAllTasks(t *testing.T) {
	handler := newTestHandler(3)
	recorder := serve(t, handler, httptest.NewRequest(http.MethodGet, "/rpost/task", nil))

	tasks := decodeTasks(t, recorder)
	if len(tasks) != 3 {
		t.Fatalf("got %d tasks, want 3", len(tasks))
	}
	want := Task{TaskID: "sy-hn-2", DataType: "2", Description: "", Status: "notget", Reserved: ""}
	if tasks[2] != want {
		t.Errorf("tasks[2] = %+v, want %+v", tasks[2], want)
	}
}

func TestGetUsesProtocolFieldNames(t *testing.T) {
	handler := newTestHandler(1)
	recorder := serve(t, handler, httptest.NewRequest(http.MethodGet, "/rpost/task", nil))

	want := `[{"TaskID":"sy-hn-0","DataType":"2","Description":"","Status":"notget","Reserved":""}]`
	if got := strings.TrimSpace(recorder.Body.String()); got != want {
		t.Errorf("body = %s, want %s", got, want)
	}
}

func TestGetWithZeroTasksReturnsEmptyArray(t *testing.T) {
	handler := newTestHandler(0)
	recorder := serve(t, handler, httptest.NewRequest(http.MethodGet, "/rpost/task", nil))

	if got := strings.TrimSpace(recorder.Body.String()); got != "[]" {
		t.Errorf("body = %s, want []", got)
	}
}

func TestPostGetAllTasksMatchesGet(t *testing.T) {
	handler := newTestHandler(5)
	fromGet := decodeTasks(t, serve(t, handler, httptest.NewRequest(http.MethodGet, "/rpost/task", nil)))

	for _, increment := range []string{"0", "1", "20", ""} {
		form := url.Values{"operation": {"GetAllTasks"}, "increment": {increment}}
		fromPost := decodeTasks(t, serve(t, handler, postForm(form)))
		if len(fromPost) != len(fromGet) {
			t.Fatalf("increment=%q: got %d tasks, want %d", increment, len(fromPost), len(fromGet))
		}
		for i := range fromGet {
			if fromPost[i] != fromGet[i] {
				t.Errorf("increment=%q: task %d = %+v, want %+v", increment, i, fromPost[i], fromGet[i])
			}
		}
	}
}

func TestSetTaskStatusChangesOneTask(t *testing.T) {
	handler := newTestHandler(3)
	form := url.Values{"operation": {"SetTaskStatus"}, "task_id": {"sy-hn-1"}, "status": {"checked"}}
	recorder := serve(t, handler, postForm(form))

	if recorder.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", recorder.Code, recorder.Body)
	}
	if got := strings.TrimSpace(recorder.Body.String()); got != `"success"` {
		t.Errorf("body = %s, want \"success\"", got)
	}

	tasks := decodeTasks(t, serve(t, handler, httptest.NewRequest(http.MethodGet, "/rpost/task", nil)))
	wantStatuses := []string{"notget", "checked", "notget"}
	for i, want := range wantStatuses {
		if tasks[i].Status != want {
			t.Errorf("tasks[%d].Status = %q, want %q", i, tasks[i].Status, want)
		}
	}
}

func TestSetTaskStatusUnknownIDIsNotFound(t *testing.T) {
	handler := newTestHandler(3)
	form := url.Values{"operation": {"SetTaskStatus"}, "task_id": {"sy-hn-99"}, "status": {"checked"}}

	message := decodeError(t, serve(t, handler, postForm(form)), http.StatusNotFound)
	if !strings.Contains(message, "sy-hn-99") {
		t.Errorf("error %q does not name the task id", message)
	}
}

func TestSetTaskStatusMissingFieldsRejected(t *testing.T) {
	handler := newTestHandler(3)
	cases := map[string]url.Values{
		"no task_id": {"operation": {"SetTaskStatus"}, "status": {"checked"}},
		"no status":  {"operation": {"SetTaskStatus"}, "task_id": {"sy-hn-0"}},
	}
	for name, form := range cases {
		t.Run(name, func(t *testing.T) {
			message := decodeError(t, serve(t, handler, postForm(form)), http.StatusBadRequest)
			if !strings.Contains(message, "task_id and status") {
				t.Errorf("error %q does not name the required fields", message)
			}
		})
	}
}

func TestUnknownOperationRejected(t *testing.T) {
	handler := newTestHandler(3)
	cases := map[string]struct {
		form        url.Values
		wantMention string
	}{
		"unknown":      {url.Values{"operation": {"DeleteAllTasks"}}, `"DeleteAllTasks"`},
		"missing":      {url.Values{"increment": {"1"}}, `""`},
		"wrong case":   {url.Values{"operation": {"getalltasks"}}, `"getalltasks"`},
		"query string": {nil, `""`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			request := postForm(c.form)
			if c.form == nil {
				// Only the form body selects the operation, not the query string.
				request = httptest.NewRequest(http.MethodPost, "/rpost/task?operation=GetAllTasks", nil)
			}
			message := decodeError(t, serve(t, handler, request), http.StatusBadRequest)
			if !strings.Contains(message, c.wantMention) {
				t.Errorf("error %q does not name the operation %s", message, c.wantMention)
			}
		})
	}
}

func TestUnsupportedMethodRejected(t *testing.T) {
	handler := newTestHandler(3)
	for _, method := range []string{http.MethodPut, http.MethodDelete, http.MethodPatch} {
		request := httptest.NewRequest(method, "/rpost/task", nil)
		message := decodeError(t, serve(t, handler, request), http.StatusBadRequest)
		if !strings.Contains(message, method) {
			t.Errorf("error %q does not name the method %s", message, method)
		}
	}
}

func TestOversizedFormRejected(t *testing.T) {
	handler := newTestHandler(1)
	body := "operation=GetAllTasks&padding=" + strings.Repeat("x", maxFormBytes)
	request := httptest.NewRequest(http.MethodPost, "/rpost/task", strings.NewReader(body))
	request.Header.Set("Content-Type", "application/x-www-form-urlencoded")

	decodeError(t, serve(t, handler, request), http.StatusBadRequest)
}

func TestConcurrentStatusChangesAndReads(t *testing.T) {
	handler := newTestHandler(10)
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(2)
		go func(id string) {
			defer wg.Done()
			form := url.Values{"operation": {"SetTaskStatus"}, "task_id": {id}, "status": {"checked"}}
			handler.ServeHTTP(httptest.NewRecorder(), postForm(form))
		}(fmt.Sprintf("sy-hn-%d", i))
		go func() {
			defer wg.Done()
			handler.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/rpost/task", nil))
		}()
	}
	wg.Wait()

	tasks := decodeTasks(t, serve(t, handler, httptest.NewRequest(http.MethodGet, "/rpost/task", nil)))
	for _, task := range tasks {
		if task.Status != "checked" {
			t.Errorf("task %s status = %q, want checked", task.TaskID, task.Status)
		}
	}
}
