package controllers

import (
	"encoding/json"
	"unicode/utf8"

	"github.com/dockprobe/dockprobe/api/v1alpha1"
)

// The status byte budget. A HealthCheck selecting hundreds of pods whose checks print
// 4 KiB each would not fit in one API request; fitStatus shortens it, least valuable
// bytes first, and never touches a target's status, failing streak or newest result
// (only, as a last resort, the newest result's output).

const (
	// ellipsis ends every shortened output, as Docker ends an output it capped.
	ellipsis = "..."
	// newestOutputFloor is how short the newest outputs get before older entries are
	// dropped: an old exit code and time is worth less than the start of the newest output.
	newestOutputFloor = 256
)

// trimStep is one pass over every target's log.
type trimStep struct {
	// rank picks one entry per target: 0 is the newest, 1 the one before, and so on.
	rank int
	// floor is the shortest an output is cut to, "..." included.
	floor int
	// drop removes the entries instead of shortening their outputs.
	drop bool
}

// trimSteps is the order of sacrifice for logs of up to maxLog entries: outputs from the
// oldest to the second newest, then newest outputs down to newestOutputFloor, then
// whole older entries from the oldest, then newest outputs down to "...".
func trimSteps(maxLog int) []trimStep {
	var steps []trimStep
	for r := maxLog - 1; r >= 1; r-- {
		steps = append(steps, trimStep{rank: r})
	}
	steps = append(steps, trimStep{rank: 0, floor: newestOutputFloor})
	for r := maxLog - 1; r >= 1; r-- {
		steps = append(steps, trimStep{rank: r, drop: true})
	}
	return append(steps, trimStep{rank: 0})
}

// fitStatus shortens st in place until its JSON is at most maxBytes long, following
// trimSteps, each step cutting only as much as the budget needs. Logs must not be shared
// with anyone else. It returns the final size and whether it fits; a status that cannot
// fit (too many targets for the budget) keeps every target.
func fitStatus(st *v1alpha1.HealthCheckStatus, maxBytes int) (int, bool) {
	size := jsonSize(st)
	if size <= maxBytes {
		return size, true
	}
	maxLog := 0
	for i := range st.Targets {
		maxLog = max(maxLog, len(st.Targets[i].Log))
	}
	for _, step := range trimSteps(maxLog) {
		if step.drop {
			dropRank(st, step.rank)
		} else {
			trimRank(st, step.rank, step.floor, size-maxBytes)
		}
		if size = jsonSize(st); size <= maxBytes {
			return size, true
		}
	}
	return size, false
}

// trimRank cuts the outputs of the entries of one rank to one common length, the longest
// that saves at least excess bytes of JSON, but not below floor.
func trimRank(st *v1alpha1.HealthCheckStatus, rank, floor, excess int) {
	floor = max(floor, len(ellipsis))
	type candidate struct {
		entry *v1alpha1.HealthLogEntry
		enc   int // JSON length of the output now
	}
	var cands []candidate
	longest := 0
	for _, e := range entriesAtRank(st, rank) {
		if len(e.Output) > floor {
			cands = append(cands, candidate{e, jsonStringLen(e.Output)})
			longest = max(longest, len(e.Output))
		}
	}
	if len(cands) == 0 {
		return
	}
	saving := func(limit int) int {
		s := 0
		for _, c := range cands {
			if len(c.entry.Output) > limit {
				s += c.enc - shortenedJSONLen(c.entry.Output, limit)
			}
		}
		return s
	}
	// saving falls as limit grows: find the largest limit that still saves enough.
	lo, hi := floor, longest-1
	if saving(lo) >= excess {
		for lo < hi {
			mid := (lo + hi + 1) / 2
			if saving(mid) >= excess {
				lo = mid
			} else {
				hi = mid - 1
			}
		}
	}
	for _, c := range cands {
		c.entry.Output = shorten(c.entry.Output, lo)
	}
}

// dropRank removes the entry of one rank from every log long enough to have one.
// Rank 0, the newest result, is never dropped.
func dropRank(st *v1alpha1.HealthCheckStatus, rank int) {
	if rank < 1 {
		return
	}
	for i := range st.Targets {
		log := st.Targets[i].Log
		if j := len(log) - 1 - rank; j >= 0 {
			st.Targets[i].Log = append(log[:j:j], log[j+1:]...)
		}
	}
}

func entriesAtRank(st *v1alpha1.HealthCheckStatus, rank int) []*v1alpha1.HealthLogEntry {
	var es []*v1alpha1.HealthLogEntry
	for i := range st.Targets {
		log := st.Targets[i].Log
		if j := len(log) - 1 - rank; j >= 0 {
			es = append(es, &log[j])
		}
	}
	return es
}

// shorten cuts s to at most limit bytes, "..." included, at a UTF-8 boundary.
func shorten(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	return s[:cutAt(s, limit)] + ellipsis
}

// shortenedJSONLen is jsonStringLen(shorten(s, limit)) without building the string.
func shortenedJSONLen(s string, limit int) int {
	if len(s) <= limit {
		return jsonStringLen(s)
	}
	return jsonStringLen(s[:cutAt(s, limit)]) + len(ellipsis)
}

func cutAt(s string, limit int) int {
	cut := max(limit-len(ellipsis), 0)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return cut
}

// jsonStringLen is the length of s as encoding/json writes it, quotes included (HTML
// characters escaped, invalid UTF-8 replaced by \ufffd), so budgets hold for any output.
func jsonStringLen(s string) int {
	n := 2
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			switch {
			case b == '"' || b == '\\' || b == '\b' || b == '\f' || b == '\n' || b == '\r' || b == '\t':
				n += 2
			case b < 0x20 || b == '<' || b == '>' || b == '&':
				n += 6
			default:
				n++
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1, r == '\u2028', r == '\u2029':
			n += 6
		default:
			n += size
		}
		i += size
	}
	return n
}

// jsonSize is the length of the status's JSON.
func jsonSize(st *v1alpha1.HealthCheckStatus) int {
	b, err := json.Marshal(st)
	if err != nil {
		// A status of strings, numbers and times always marshals.
		panic(err)
	}
	return len(b)
}
