package kubeletsim

import (
	"slices"
	"sync"
	"time"
)

// DefaultRecordLimit is how many ExecRecords a node keeps when Options.RecordLimit is 0.
const DefaultRecordLimit = 10000

// ExecRecord is one exec that reached a handler. Finished is zero while it runs.
type ExecRecord struct {
	ID          uint64
	Namespace   string
	Pod         string
	Container   string
	ContainerID string
	Cmd         []string
	Started     time.Time
	Finished    time.Time
	ExitCode    int
	Err         string // the handler's error or why the exec was ended; empty if none
}

// execRecorder owns the exec counters and records behind mu. Every method locks, and
// readers get copies.
type execRecorder struct {
	mu          sync.Mutex
	limit       int
	nextID      uint64
	counts      map[containerRef]int
	total       int
	inFlight    int
	maxInFlight int
	records     []*ExecRecord          // oldest first; trimmed to limit
	running     map[uint64]*ExecRecord // also in records unless trimmed away
}

func newExecRecorder(limit int) *execRecorder {
	if limit <= 0 {
		limit = DefaultRecordLimit
	}
	return &execRecorder{limit: limit, counts: map[containerRef]int{}, running: map[uint64]*ExecRecord{}}
}

// begin counts an exec that is about to reach its handler and returns its record ID.
func (r *execRecorder) begin(req ExecRequest, now time.Time) uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.nextID++
	rec := &ExecRecord{
		ID: r.nextID, Namespace: req.Namespace, Pod: req.Pod, Container: req.Container,
		ContainerID: req.ContainerID, Cmd: slices.Clone(req.Cmd), Started: now,
	}
	r.running[rec.ID] = rec
	r.records = append(r.records, rec)
	// Trim in batches so that appending stays O(1) amortized at the limit.
	if len(r.records) > r.limit+r.limit/4 {
		r.records = slices.Clone(r.records[len(r.records)-r.limit:])
	}
	r.counts[containerRef{namespace: req.Namespace, pod: req.Pod, container: req.Container}]++
	r.total++
	r.inFlight++
	r.maxInFlight = max(r.maxInFlight, r.inFlight)
	return rec.ID
}

func (r *execRecorder) end(id uint64, exitCode int, err error, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rec, ok := r.running[id]
	if !ok {
		return
	}
	delete(r.running, id)
	rec.Finished, rec.ExitCode = now, exitCode
	if err != nil {
		rec.Err = err.Error()
	}
	r.inFlight--
}

// Execs is how many execs reached the handler of this container, finished or not, since
// the node started or ResetCounters.
func (n *Node) Execs(namespace, pod, container string) int {
	n.records.mu.Lock()
	defer n.records.mu.Unlock()
	return n.records.counts[containerRef{namespace: namespace, pod: pod, container: container}]
}

// TotalExecs is how many execs reached a handler on this node since it started or
// ResetCounters.
func (n *Node) TotalExecs() int {
	n.records.mu.Lock()
	defer n.records.mu.Unlock()
	return n.records.total
}

// InFlight is how many execs are running on the node right now. An exec counts from its
// handler's start to its end, a part of the client's own StreamWithContext call, so a
// client that caps its execs in flight never sees this exceed its cap.
func (n *Node) InFlight() int {
	n.records.mu.Lock()
	defer n.records.mu.Unlock()
	return n.records.inFlight
}

// MaxInFlight is the most execs that ran on the node at once since it started or
// ResetCounters.
func (n *Node) MaxInFlight() int {
	n.records.mu.Lock()
	defer n.records.mu.Unlock()
	return n.records.maxInFlight
}

// ResetCounters zeroes the exec counts and drops the records. Execs still running keep
// counting in InFlight, which is where MaxInFlight starts again.
func (n *Node) ResetCounters() {
	r := n.records
	r.mu.Lock()
	defer r.mu.Unlock()
	clear(r.counts)
	r.total = 0
	r.maxInFlight = r.inFlight
	r.records = nil
}

// ExecRecords returns copies of the most recent exec records, oldest first (at most
// Options.RecordLimit of them), running ones included.
func (n *Node) ExecRecords() []ExecRecord {
	r := n.records
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]ExecRecord, 0, min(len(r.records), r.limit))
	for _, rec := range r.records[max(0, len(r.records)-r.limit):] {
		c := *rec
		c.Cmd = slices.Clone(rec.Cmd)
		out = append(out, c)
	}
	return out
}
