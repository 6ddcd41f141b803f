package scheduler

// shrinkMap is a map whose memory follows its live entries. A Go map never
// gives back the space of deleted entries, so a map that once held a
// million keys keeps a million slots. shrinkMap copies its live entries
// into a fresh map when they fall far below the high-water mark. A copy
// costs O(live) and is paid for by the many more entries deleted since, so
// every operation stays O(1) amortized.
//
// An eager map checks on every delete (below a sixteenth of the mark). A
// lazy one leaves it to its owner, who calls compact now and then: a map
// that empties and refills in bursts is then not rebuilt over and over
// while it is busy.
type shrinkMap[K comparable, V any] struct {
	m    map[K]V
	peak int  // the most entries held since m was made or last compacted
	lazy bool // shrink only in compact
}

// shrinkFloor is the size below which a map is never rebuilt: small maps
// are cheap, and rebuilding them would only churn.
const shrinkFloor = 1024

func (s *shrinkMap[K, V]) get(k K) (V, bool) {
	v, ok := s.m[k]
	return v, ok
}

func (s *shrinkMap[K, V]) put(k K, v V) {
	if s.m == nil {
		s.m = make(map[K]V)
	}
	s.m[k] = v
	s.peak = max(s.peak, len(s.m))
}

func (s *shrinkMap[K, V]) delete(k K) {
	delete(s.m, k)
	if !s.lazy && s.peak >= shrinkFloor && len(s.m) < s.peak/16 {
		s.rebuild()
	}
}

// compact rebuilds the map if it holds under a quarter of its high-water
// mark, and starts a new high-water mark: the next compact looks at what
// the map held since this one.
func (s *shrinkMap[K, V]) compact() {
	if s.peak >= shrinkFloor && len(s.m) < s.peak/4 {
		s.rebuild()
	}
	s.peak = len(s.m)
}

func (s *shrinkMap[K, V]) rebuild() {
	m := make(map[K]V, len(s.m))
	for k, v := range s.m {
		m[k] = v
	}
	s.m, s.peak = m, len(m)
}

func (s *shrinkMap[K, V]) len() int { return len(s.m) }
