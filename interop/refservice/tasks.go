package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
)

// initialStatus is the status of every task when the service starts.
const initialStatus = "notget"

// maxFormBytes limits the POST body that the task handler reads.
const maxFormBytes = 1 << 20

// Task is one task as the task-service protocol reports it. The JSON field
// names are the ones that the original task services send.
type Task struct {
	TaskID      string `json:"TaskID"`
	DataType    string `json:"DataType"`
	Description string `json:"Description"`
	Status      string `json:"Status"`
	Reserved    string `json:"Reserved"`
}

// taskStore is the in-memory task list. It is safe for concurrent use.
type taskStore struct {
	mu    sync.Mutex
	tasks []Task
	index map[string]int // TaskID to position in tasks
}

// newTaskStore creates count tasks with the ids idPrefix-0 to
// idPrefix-(count-1), all of data type dataType and status initialStatus.
func newTaskStore(idPrefix, dataType string, count int) *taskStore {
	store := &taskStore{
		tasks: make([]Task, 0, count),
		index: make(map[string]int, count),
	}
	for i := 0; i < count; i++ {
		id := fmt.Sprintf("%s-%d", idPrefix, i)
		store.index[id] = len(store.tasks)
		store.tasks = append(store.tasks, Task{TaskID: id, DataType: dataType, Status: initialStatus})
	}
	return store
}

// list returns a copy of all tasks in id order.
func (s *taskStore) list() []Task {
	s.mu.Lock()
	defer s.mu.Unlock()

	tasks := make([]Task, len(s.tasks))
	copy(tasks, s.tasks)
	return tasks
}

// setStatus changes the status of one task and reports whether the id exists.
func (s *taskStore) setStatus(id, status string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()

	i, ok := s.index[id]
	if !ok {
		return false
	}
	s.tasks[i].Status = status
	return true
}

// taskHandler serves the task endpoint of the task-service protocol:
//
//	GET                                            the task list
//	POST operation=GetAllTasks&increment=N         the task list
//	POST operation=SetTaskStatus&task_id=ID&status=S  "success"
//
// The handler ignores increment and always returns every task. Errors are
// JSON objects {"error": "..."} with status 400, or 404 for an unknown task id.
type taskHandler struct {
	store  *taskStore
	logger *slog.Logger
}

func (h *taskHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		writeJSON(w, http.StatusOK, h.store.list())
	case http.MethodPost:
		h.servePost(w, r)
	default:
		h.reject(w, r, http.StatusBadRequest,
			fmt.Sprintf("unsupported method %s; use GET, or POST with an operation form field", r.Method))
	}
}

func (h *taskHandler) servePost(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		h.reject(w, r, http.StatusBadRequest, fmt.Sprintf("invalid form body: %v", err))
		return
	}

	operation := r.PostForm.Get("operation")
	switch operation {
	case "GetAllTasks":
		writeJSON(w, http.StatusOK, h.store.list())
	case "SetTaskStatus":
		h.setTaskStatus(w, r)
	default:
		h.reject(w, r, http.StatusBadRequest,
			fmt.Sprintf("unsupported operation %q; use GetAllTasks or SetTaskStatus", operation))
	}
}

func (h *taskHandler) setTaskStatus(w http.ResponseWriter, r *http.Request) {
	id := r.PostForm.Get("task_id")
	status := r.PostForm.Get("status")
	if id == "" || status == "" {
		h.reject(w, r, http.StatusBadRequest, "operation \"SetTaskStatus\" requires the form fields task_id and status")
		return
	}
	if !h.store.setStatus(id, status) {
		h.reject(w, r, http.StatusNotFound, fmt.Sprintf("task %q not found", id))
		return
	}

	h.logger.Info("task status changed", "task_id", id, "status", status)
	writeJSON(w, http.StatusOK, "success")
}

// reject logs a rejected request and writes {"error": message}.
func (h *taskHandler) reject(w http.ResponseWriter, r *http.Request, code int, message string) {
	h.logger.Warn("request rejected", "method", r.Method, "path", r.URL.Path, "status", code, "error", message)
	writeJSON(w, code, map[string]string{"error": message})
}

func writeJSON(w http.ResponseWriter, code int, value any) {
	body, err := json.Marshal(value)
	if err != nil {
		// Only the types of this file reach here, and all of them marshal.
		http.Error(w, "failed to encode JSON response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(append(body, '\n'))
}
