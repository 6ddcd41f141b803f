package scheduler

// shrinkMap is a map whose memory follows its live entries. A Go map never
// gives back the space of deleted entries, so a map that once held a million
// keys keeps a million slots. shrinkMap copies its live entries into a fresh
// map when they fall below a quarter of the high-water mark; the copy costs
// O(live) and is paid for by the three quarters deleted since, so every
// operation stays O(1) amortized.
type shrinkMap[K comparable, V any] struct {
	m    map[K]V
	peak int // the most entries held since m was made
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
	if s.peak >= shrinkFloor && len(s.m) < s.peak/4 {
		m := make(map[K]V, len(s.m))
		for k, v := range s.m {
			m[k] = v
		}
		s.m, s.peak = m, len(m)
	}
}

func (s *shrinkMap[K, V]) len() int { return len(s.m) }
